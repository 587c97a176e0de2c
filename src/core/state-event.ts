/**
 * The shapes the room-state algorithms share (authorization rules, state resolution v1/v2/v2.1, the state before
 * and after each event): an event as those algorithms read it, and a state map. Pure types and two helpers.
 */

/** An event as the authorization rules and state resolution read it: its parsed fields, nothing of storage. */
export interface StateEvent {
  readonly event_id: string;
  readonly room_id: string;
  readonly type: string;
  /** null for a message (not a state event); '' is a valid state key. */
  readonly state_key: string | null;
  readonly sender: string;
  readonly content: Readonly<Record<string, unknown>>;
  readonly depth: number;
  readonly origin_server_ts: number;
  readonly prev_events: readonly string[];
  readonly auth_events: readonly string[];
  /** v1-v10 `redacts` at the top level of an m.room.redaction (v11 moved it into content). */
  readonly redacts?: string;
}

/** A (type, state_key) pair as one string: a key of a StateMap. JSON so that no type or key can collide. */
export type StateKey = string;

export function stateKey(type: string, key: string): StateKey {
  return JSON.stringify([type, key]);
}

export function parseStateKey(key: StateKey): [type: string, stateKey: string] {
  return JSON.parse(key) as [string, string];
}

/** A room state: (type, state_key) -> the event ID of the state event. */
export type StateMap = ReadonlyMap<StateKey, string>;

/** Looks an event up by ID; undefined when it is not known (never stored, or a placeholder). */
export type EventLookup = (eventId: string) => StateEvent | undefined;
