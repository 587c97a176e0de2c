/**
 * Room states as deltas on a parent with a snapshot every MAX_HOPS (src/core/room-state.ts): lookups, IDs derived
 * from content, the summary kept from deltas alone.
 */
import {
  MAX_HOPS, deriveState, snapshotState, stateDifference, stateGet, stateMap, type RoomState,
} from '../../src/core/room-state';
import { stateKey, type StateEvent } from '../../src/core/state-event';

const ROOM = '!r:hs1.test';
const events = new Map<string, StateEvent>();

function ev(id: string, type: string, key: string, content: Record<string, unknown>): string {
  events.set(id, {
    event_id: id, room_id: ROOM, type, state_key: key, sender: '@alice:hs1.test', content, depth: 1,
    origin_server_ts: 0, prev_events: [], auth_events: [],
  });
  return id;
}
const lookup = (id: string) => events.get(id);

const CREATE = ev('$create', 'm.room.create', '', {});
const ALICE_JOIN = ev('$alice', 'm.room.member', '@alice:hs1.test', { membership: 'join' });
const BOB_JOIN = ev('$bob', 'm.room.member', '@bob:hs2.test', { membership: 'join' });
const BOB_LEAVE = ev('$bob-leave', 'm.room.member', '@bob:hs2.test', { membership: 'leave' });
const CAROL_INVITE = ev('$carol', 'm.room.member', '@carol:hs2.test', { membership: 'invite' });
const DAVE_JOIN = ev('$dave', 'm.room.member', '@dave:hs1.test', { membership: 'join' });
const SHARED = ev('$hv', 'm.room.history_visibility', '', { history_visibility: 'shared' });
const JOINED = ev('$hv2', 'm.room.history_visibility', '', { history_visibility: 'joined' });
const PUBLIC = ev('$jr', 'm.room.join_rules', '', { join_rule: 'public' });
const ACL = ev('$acl', 'm.room.server_acl', '', { allow: ['*'] });

const key = (type: string, k = '') => stateKey(type, k);
const set = (entries: [string, string | null][]) => new Map(entries);

function base(): RoomState {
  return snapshotState(new Map([[key('m.room.create'), CREATE], [key('m.room.member', '@alice:hs1.test'), ALICE_JOIN]]), lookup);
}

describe('deriveState', () => {
  it('adds, replaces and removes keys; the parent is unchanged and lookups see through it', () => {
    const parent = base();
    const child = deriveState(parent, set([[key('m.room.join_rules'), PUBLIC], [key('m.room.member', '@alice:hs1.test'), null]]), lookup);
    expect(child.parent).toBe(parent);
    expect(child.hops).toBe(1);
    expect([...child.entries]).toEqual([[key('m.room.join_rules'), PUBLIC], [key('m.room.member', '@alice:hs1.test'), null]]);
    expect(child.size).toBe(2);
    expect(stateGet(child, key('m.room.create'))).toBe(CREATE);
    expect(stateGet(child, key('m.room.member', '@alice:hs1.test'))).toBeUndefined();
    expect(stateGet(parent, key('m.room.member', '@alice:hs1.test'))).toBe(ALICE_JOIN);
    expect(stateMap(child)).toEqual(new Map([[key('m.room.create'), CREATE], [key('m.room.join_rules'), PUBLIC]]));
  });

  it('returns the parent itself when nothing changes', () => {
    const parent = base();
    expect(deriveState(parent, set([[key('m.room.create'), CREATE], [key('m.room.topic'), null]]), lookup)).toBe(parent);
  });

  it('gives the same ID for the same changes on the same parent, whatever their order, and another for other changes', () => {
    const parent = base();
    const a = deriveState(parent, set([[key('m.room.join_rules'), PUBLIC], [key('m.room.history_visibility'), SHARED]]), lookup);
    const b = deriveState(parent, set([[key('m.room.history_visibility'), SHARED], [key('m.room.join_rules'), PUBLIC]]), lookup);
    const c = deriveState(parent, set([[key('m.room.history_visibility'), JOINED], [key('m.room.join_rules'), PUBLIC]]), lookup);
    expect(a.state_id).toBe(b.state_id);
    expect(c.state_id).not.toBe(a.state_id);
    expect(a.state_id).toMatch(/^s[A-Za-z0-9_-]{43}$/);
  });

  it(`makes a snapshot after ${MAX_HOPS} hops, with the same entries`, () => {
    let state = base();
    for (let i = 1; i < MAX_HOPS; i++) state = deriveState(state, set([[key('m.room.topic'), ev(`$topic${i}`, 'm.room.topic', '', { topic: `${i}` })]]), lookup);
    expect(state.hops).toBe(MAX_HOPS - 1);
    const next = deriveState(state, set([[key('m.room.name'), ev('$name', 'm.room.name', '', { name: 'n' })]]), lookup);
    expect(next.parent).toBeUndefined();
    expect(next.hops).toBe(0);
    expect(stateMap(next)).toEqual(new Map([...stateMap(state), [key('m.room.name'), '$name']]));
    expect(next.summary).toEqual(state.summary);
  });
});

describe('the summary', () => {
  it('follows create, ACL, history visibility, join rule, and joined and invited members per server', () => {
    const s0 = base();
    expect(s0.summary).toEqual({
      create_event_id: CREATE, server_acl_event_id: null, history_visibility: null, join_rule: null,
      joined: new Map([['hs1.test', 1]]), invited: new Map(),
    });
    const s1 = deriveState(s0, set([
      [key('m.room.history_visibility'), SHARED], [key('m.room.join_rules'), PUBLIC], [key('m.room.server_acl'), ACL],
      [key('m.room.member', '@bob:hs2.test'), BOB_JOIN], [key('m.room.member', '@carol:hs2.test'), CAROL_INVITE],
      [key('m.room.member', '@dave:hs1.test'), DAVE_JOIN],
    ]), lookup);
    expect(s1.summary).toEqual({
      create_event_id: CREATE, server_acl_event_id: ACL, history_visibility: 'shared', join_rule: 'public',
      joined: new Map([['hs1.test', 2], ['hs2.test', 1]]), invited: new Map([['hs2.test', 1]]),
    });
    const s2 = deriveState(s1, set([[key('m.room.member', '@bob:hs2.test'), BOB_LEAVE], [key('m.room.history_visibility'), JOINED]]), lookup);
    expect(s2.summary.joined).toEqual(new Map([['hs1.test', 2]]));
    expect(s2.summary.invited).toBe(s1.summary.invited);
    expect(s2.summary.history_visibility).toBe('joined');
    // A snapshot of the same entries has the same summary as the chain of deltas.
    expect(snapshotState(stateMap(s2), lookup).summary).toEqual(s2.summary);
  });
});

describe('stateDifference', () => {
  it('lists what turns one state into another, null for a removed key', () => {
    const from = new Map([[key('a'), '$1'], [key('b'), '$2'], [key('c'), '$3']]);
    const to = new Map([[key('a'), '$1'], [key('b'), '$9'], [key('d'), '$4']]);
    expect(stateDifference(from, to)).toEqual(new Map([[key('b'), '$9'], [key('d'), '$4'], [key('c'), null]]));
  });
});
