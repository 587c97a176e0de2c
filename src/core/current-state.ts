/**
 * The room's current state, as far as authorizing a server needs it. This is the one seam that the spec's state
 * resolution will replace: for now, where branches of the DAG disagree about a (type, state_key), the state event
 * with the greatest depth wins, then the greater origin_server_ts, then the greater event_id. The rule depends
 * only on the events, never on the order they were imported in.
 */
import { isObject } from './json';
import { serverNameOf } from './identifiers';

export interface StateCandidate {
  readonly event_id: string;
  readonly room_id: string;
  readonly type: string;
  readonly state_key: string;
  readonly sender: string;
  readonly depth: number;
  readonly origin_server_ts: number;
  readonly pdu: string;
}

export interface CurrentStateEntry {
  readonly room_id: string;
  readonly type: string;
  readonly state_key: string;
  readonly event_id: string;
  readonly sender: string;
  /** The event's content as a JSON string. */
  readonly content: string;
  /** For m.room.member: the membership and the server of the member (state_key's domain); otherwise null. */
  readonly membership: string | null;
  readonly member_server: string | null;
}

export function chooseCurrentState(candidates: readonly StateCandidate[]): CurrentStateEntry[] {
  const winners = new Map<string, StateCandidate>();
  for (const candidate of candidates) {
    const key = JSON.stringify([candidate.room_id, candidate.type, candidate.state_key]);
    const current = winners.get(key);
    if (current === undefined || wins(candidate, current)) winners.set(key, candidate);
  }
  return Array.from(winners.values(), toEntry);
}

function wins(a: StateCandidate, b: StateCandidate): boolean {
  if (a.depth !== b.depth) return a.depth > b.depth;
  if (a.origin_server_ts !== b.origin_server_ts) return a.origin_server_ts > b.origin_server_ts;
  return a.event_id > b.event_id;
}

function toEntry(event: StateCandidate): CurrentStateEntry {
  const pdu = JSON.parse(event.pdu) as Record<string, unknown>;
  const content = isObject(pdu.content) ? pdu.content : {};
  const isMember = event.type === 'm.room.member';
  return {
    room_id: event.room_id,
    type: event.type,
    state_key: event.state_key,
    event_id: event.event_id,
    sender: event.sender,
    content: JSON.stringify(content),
    membership: isMember && typeof content.membership === 'string' ? content.membership : null,
    member_server: isMember ? (serverNameOf(event.state_key) ?? null) : null,
  };
}
