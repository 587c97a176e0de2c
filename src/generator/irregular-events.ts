/**
 * What every real room holds and a clean generated room does not: an event the authorization rules reject, a
 * soft-failed event and a missing event (named in prev_events, left out of the room's file). generateRoom ends a
 * room with them when asked (`irregular`: the demo room and `generate --conflicts`), as the newest events, so the
 * Browser's first drawing of a room (newest-events) shows each kind. D is the depth of the spammer's join:
 *
 *   D    a spammer joins (from the room's last server)
 *   D+1  the spammer's message, on the join: nothing names it; it passes against its own state, but the current
 *        state holds the ban: soft-failed (a forward extremity that fails the auth rules on the current state)
 *   D+1  the creator bans the spammer, on the join
 *   D+1  an event of the creator's on the join that the file leaves out: the missing event (a placeholder)
 *   D+2  the creator's message on the missing event: its state waits for the gap (state pending)
 *   D+2  a topic from an intruder who never joined, on the ban: rejected (fails the auth rules on its auth_events)
 *   D+2  the creator's message on the ban, and at D+3 one more: the room's newest event, an ordinary tip
 *
 * Only the spammer's join, the ban and the last two messages are the builder's forward extremities and state; the
 * others are `detached`, as no server builds on them.
 */
import type { BuiltEvent, EventSpec, RoomBuilder } from './room-builder';

/** The lines the events add to the room's file (the missing event is built but not written). */
export const IRREGULAR_LINES = 7;

export interface IrregularEvents {
  readonly spammerJoin: BuiltEvent;
  readonly softFailed: BuiltEvent;
  readonly ban: BuiltEvent;
  readonly missing: BuiltEvent;
  readonly waiting: BuiltEvent;
  readonly rejected: BuiltEvent;
  readonly after: BuiltEvent;
  readonly newest: BuiltEvent;
  /** The events of the file, in order: all but `missing`. */
  readonly lines: readonly BuiltEvent[];
}

export function addIrregularEvents(builder: RoomBuilder, creator: string, servers: readonly string[]): IrregularEvents {
  const server = servers[servers.length - 1]!;
  const spammer = `@spammer:${server}`;
  const intruder = `@intruder:${server}`;
  const message = (sender: string, body: string, prev: readonly BuiltEvent[], detached = false): EventSpec => ({
    type: 'm.room.message', sender, content: { msgtype: 'm.text', body }, prev, detached,
  });
  const spammerJoin = builder.add({ type: 'm.room.member', state_key: spammer, sender: spammer, content: { membership: 'join', displayname: 'spammer' } });
  const softFailed = builder.add(message(spammer, 'buy now (sent as the ban went out: soft-failed)', [spammerJoin], true));
  const ban = builder.add({ type: 'm.room.member', state_key: spammer, sender: creator, content: { membership: 'ban', reason: 'spam' }, prev: [spammerJoin] });
  const missing = builder.add(message(creator, 'this event is named but left out of the file (a missing event)', [spammerJoin], true));
  const waiting = builder.add(message(creator, 'after the missing event: state pending', [missing], true));
  const rejected = builder.add({
    type: 'm.room.topic', state_key: '', sender: intruder, content: { topic: 'not a member (rejected)' }, prev: [ban], detached: true,
  });
  const after = builder.add(message(creator, 'the spammer is gone', [ban]));
  const newest = builder.add(message(creator, 'back to normal', [after]));
  return { spammerJoin, softFailed, ban, missing, waiting, rejected, after, newest, lines: [spammerJoin, softFailed, ban, waiting, rejected, after, newest] };
}
