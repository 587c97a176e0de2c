/**
 * State resolution v1 (room version 1) on small hand-built DAGs: the exact resolved state for each case.
 */
import { createHash } from 'node:crypto';
import { getRoomVersion } from '../../src/core/room-versions';
import { resolveStateV1 } from '../../src/core/state-resolution-v1';
import { stateKey } from '../../src/core/state-event';
import { RoomDag } from '../helpers/state-dag';

const V1 = getRoomVersion('1')!;
const ALICE = '@alice:hs1.test';
const BOB = '@bob:hs2.test';

/** create, alice joins, power levels (alice 100, ban 50), public join rules, bob joins: depths 1-5. */
function room(): RoomDag {
  const dag = new RoomDag(V1, '!r:hs1.test');
  dag.add({ id: '$create:hs1.test', sender: ALICE, type: 'm.room.create', state_key: '', content: { creator: ALICE } });
  dag.add({ id: '$ima:hs1.test', sender: ALICE, type: 'm.room.member', state_key: ALICE, content: { membership: 'join' }, prev: ['$create:hs1.test'], auth: ['$create:hs1.test'] });
  dag.add({ id: '$ipower:hs1.test', sender: ALICE, type: 'm.room.power_levels', state_key: '', content: { users: { [ALICE]: 100 }, ban: 50, state_default: 50 }, prev: ['$ima:hs1.test'], auth: ['$create:hs1.test', '$ima:hs1.test'] });
  dag.add({ id: '$ijr:hs1.test', sender: ALICE, type: 'm.room.join_rules', state_key: '', content: { join_rule: 'public' }, prev: ['$ipower:hs1.test'], auth: ['$create:hs1.test', '$ima:hs1.test', '$ipower:hs1.test'] });
  return dag;
}

const BASE = ['$create:hs1.test', '$ima:hs1.test', '$ipower:hs1.test', '$ijr:hs1.test'];
const AUTH = ['$create:hs1.test', '$ima:hs1.test', '$ipower:hs1.test'];
const sha1 = (id: string) => createHash('sha1').update(id).digest('hex');

it('keeps what the sets agree on, and a key only one set holds (no conflict in v1)', () => {
  const dag = room();
  dag.add({ id: '$topic:hs1.test', sender: ALICE, type: 'm.room.topic', state_key: '', content: { topic: 't' }, prev: ['$ijr:hs1.test'], auth: AUTH });
  const resolved = resolveStateV1(V1, [dag.state(BASE), dag.state([...BASE, '$topic:hs1.test'])], dag.fetchEvent);
  expect(resolved).toEqual(dag.state([...BASE, '$topic:hs1.test']));
});

it('a topic conflict: the deeper topic wins', () => {
  const dag = room();
  dag.add({ id: '$t1:hs1.test', sender: ALICE, type: 'm.room.topic', state_key: '', content: { topic: 'shallow' }, prev: ['$ijr:hs1.test'], auth: AUTH });
  dag.add({ id: '$m:hs1.test', sender: ALICE, type: 'm.room.message', prev: ['$ijr:hs1.test'], auth: AUTH });
  dag.add({ id: '$t2:hs1.test', sender: ALICE, type: 'm.room.topic', state_key: '', content: { topic: 'deep' }, prev: ['$m:hs1.test'], auth: AUTH });
  const resolved = resolveStateV1(V1, [dag.state([...BASE, '$t1:hs1.test']), dag.state([...BASE, '$t2:hs1.test'])], dag.fetchEvent);
  expect(resolved.get(stateKey('m.room.topic', ''))).toBe('$t2:hs1.test');
});

it('a topic conflict at equal depth: the smaller SHA-1 of the event ID wins', () => {
  const dag = room();
  dag.add({ id: '$ta:hs1.test', sender: ALICE, type: 'm.room.topic', state_key: '', content: { topic: 'a' }, prev: ['$ijr:hs1.test'], auth: AUTH });
  dag.add({ id: '$tb:hs1.test', sender: ALICE, type: 'm.room.topic', state_key: '', content: { topic: 'b' }, prev: ['$ijr:hs1.test'], auth: AUTH });
  const expected = sha1('$ta:hs1.test') < sha1('$tb:hs1.test') ? '$ta:hs1.test' : '$tb:hs1.test';
  const resolved = resolveStateV1(V1, [dag.state([...BASE, '$ta:hs1.test']), dag.state([...BASE, '$tb:hs1.test'])], dag.fetchEvent);
  expect(resolved.get(stateKey('m.room.topic', ''))).toBe(expected);
});

it('conflicting power levels: a deeper one its sender may not send loses to the one before it', () => {
  const dag = room();
  dag.add({ id: '$imb:hs2.test', sender: BOB, type: 'm.room.member', state_key: BOB, content: { membership: 'join' }, prev: ['$ijr:hs1.test'], auth: [...AUTH, '$ijr:hs1.test'] });
  dag.add({ id: '$pa:hs1.test', sender: ALICE, type: 'm.room.power_levels', state_key: '', content: { users: { [ALICE]: 100, [BOB]: 10 }, ban: 50, state_default: 50 }, prev: ['$imb:hs2.test'], auth: AUTH });
  dag.add({ id: '$m:hs2.test', sender: BOB, type: 'm.room.message', prev: ['$imb:hs2.test'], auth: ['$create:hs1.test', '$ipower:hs1.test', '$imb:hs2.test'] });
  dag.add({ id: '$pb:hs2.test', sender: BOB, type: 'm.room.power_levels', state_key: '', content: { users: { [BOB]: 100 }, state_default: 50 }, prev: ['$m:hs2.test'], auth: ['$create:hs1.test', '$ipower:hs1.test', '$imb:hs2.test'] });
  const base = [...BASE, '$imb:hs2.test'];
  const resolved = resolveStateV1(V1, [dag.state([...base, '$pa:hs1.test']), dag.state([...base, '$pb:hs2.test'])], dag.fetchEvent);
  expect(resolved.get(stateKey('m.room.power_levels', ''))).toBe('$pa:hs1.test');
});

it('a ban racing a join at the same depth: the ban, whichever comes first', () => {
  const dag = room();
  dag.add({ id: '$join:hs2.test', sender: BOB, type: 'm.room.member', state_key: BOB, content: { membership: 'join' }, prev: ['$ijr:hs1.test'], auth: [...AUTH, '$ijr:hs1.test'] });
  dag.add({ id: '$ban:hs1.test', sender: ALICE, type: 'm.room.member', state_key: BOB, content: { membership: 'ban' }, prev: ['$ijr:hs1.test'], auth: AUTH });
  const resolved = resolveStateV1(V1, [dag.state([...BASE, '$join:hs2.test']), dag.state([...BASE, '$ban:hs1.test'])], dag.fetchEvent);
  expect(resolved.get(stateKey('m.room.member', BOB))).toBe('$ban:hs1.test');
  expect(resolved.size).toBe(5);
});

it('a conflicted candidate the lookup does not hold is left out', () => {
  const dag = room();
  dag.add({ id: '$ta:hs1.test', sender: ALICE, type: 'm.room.topic', state_key: '', content: { topic: 'a' }, prev: ['$ijr:hs1.test'], auth: AUTH });
  dag.add({ id: '$tb:hs1.test', sender: ALICE, type: 'm.room.topic', state_key: '', content: { topic: 'b' }, prev: ['$ta:hs1.test'], auth: AUTH });
  dag.hidden.add('$tb:hs1.test');
  const resolved = resolveStateV1(V1, [dag.state([...BASE, '$ta:hs1.test']), new Map([...dag.state(BASE), [stateKey('m.room.topic', ''), '$tb:hs1.test']])], dag.fetchEvent);
  expect(resolved.get(stateKey('m.room.topic', ''))).toBe('$ta:hs1.test');
});
