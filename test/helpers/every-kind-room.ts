/**
 * A small room holding every kind of event the analyst queries and the Browser style tell apart, built event by
 * event (test/integration/analyst-queries.test.ts and test/browser/explore-room.test.ts both explore it):
 *
 * depth 1-8: create, alice joins, power levels (carol may ban), public, bob, carol and dave join, dave leaves;
 * 9: topic1; 10: a; 11: b1 (alice) and b2 (bob), both on a (a fork); 12: m, a topic merging b1 and b2; 13: after, on
 * m; 14: bobMessage, ban (carol bans bob) and intruder (a topic from eve, who is not in the room: rejected), all on
 * after; 15: tail, merging intruder and ban. bobMessage is left a forward extremity that fails against the current
 * state (bob is banned there): soft-failed. On m too: gap <- c (14) <- d (15); import everything but `gap` and c and
 * d wait with their state unknown.
 */
import type { BuiltEvent, RoomBuilder } from '../../src/generator/room-builder';

export const ALICE = '@alice:hs1.test';
export const BOB = '@bob:hs2.test';
export const CAROL = '@carol:hs2.test';
export const DAVE = '@dave:hs3.test';
export const EVE = '@eve:hs4.test';

/** Adds the room's events to `r` (which has none yet); returns the named ones. */
export function buildEveryKindRoom(r: RoomBuilder): Record<string, BuiltEvent> {
  const e: Record<string, BuiltEvent> = {};
  const message = (body: string, sender: string, prev: readonly BuiltEvent[]) =>
    r.add({ type: 'm.room.message', sender, content: { msgtype: 'm.text', body }, prev });
  r.create(ALICE);
  r.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  r.add({
    type: 'm.room.power_levels', state_key: '', sender: ALICE,
    content: { users: { [ALICE]: 100, [CAROL]: 50 }, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0, events: {} },
  });
  r.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  for (const user of [BOB, CAROL, DAVE]) r.add({ type: 'm.room.member', state_key: user, sender: user, content: { membership: 'join' } });
  r.add({ type: 'm.room.member', state_key: DAVE, sender: DAVE, content: { membership: 'leave' } });
  e.topic1 = r.add({ type: 'm.room.topic', state_key: '', sender: ALICE, content: { topic: 'one' } });
  e.a = message('a', ALICE, [e.topic1]);
  e.b1 = message('b1', ALICE, [e.a]);
  e.b2 = message('b2', BOB, [e.a]);
  e.m = r.add({ type: 'm.room.topic', state_key: '', sender: ALICE, content: { topic: 'two' }, prev: [e.b1, e.b2] });
  e.after = message('after', ALICE, [e.m]);
  // Bob's message is made before the ban, so the builder gives it his join as auth event, as his server would.
  e.bobMessage = message('bob, not yet aware of the ban', BOB, [e.after]);
  e.ban = r.add({ type: 'm.room.member', state_key: BOB, sender: CAROL, content: { membership: 'ban' }, prev: [e.after] });
  e.intruder = r.add({ type: 'm.room.topic', state_key: '', sender: EVE, content: { topic: 'eve was here' }, prev: [e.after] });
  e.tail = message('tail', ALICE, [e.intruder, e.ban]);
  e.gap = message('gap', ALICE, [e.m]);
  e.c = message('c', ALICE, [e.gap]);
  e.d = message('d', ALICE, [e.c]);
  return e;
}
