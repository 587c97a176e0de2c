/**
 * State resolution v1 (spec: room version 1, "State resolution"). A key is conflicted only when the state sets
 * that hold it disagree (a key missing from some sets is not a conflict in v1). Conflicted m.room.power_levels are
 * resolved first, then m.room.join_rules, then m.room.member, each by walking its candidates from the least deep
 * up and keeping the last one that passes the authorization rules against the partly resolved state; any other
 * conflicted key takes the deepest candidate that passes (ties: the smaller SHA-1 of the event ID), or the least
 * deep one when none passes.
 */
import { createHash } from 'node:crypto';
import { authEventsSelection, authorize } from './auth-rules';
import type { RoomVersion } from './room-versions';
import { parseStateKey, stateKey, type EventLookup, type StateEvent, type StateKey, type StateMap } from './state-event';

export function resolveStateV1(version: RoomVersion, stateSets: readonly StateMap[], fetchEvent: EventLookup): StateMap {
  const unconflicted = new Map<StateKey, string>();
  const conflicted = new Map<StateKey, StateEvent[]>();
  const keys = new Set(stateSets.flatMap((set) => [...set.keys()]));
  for (const key of keys) {
    const ids = new Set(stateSets.flatMap((set) => (set.has(key) ? [set.get(key)!] : [])));
    if (ids.size === 1) unconflicted.set(key, [...ids][0]!);
    else {
      const candidates = [...ids].map(fetchEvent).filter((event): event is StateEvent => event !== undefined);
      if (candidates.length > 0) conflicted.set(key, candidates);
    }
  }
  // What the auth checks read: the unconflicted state, then each resolved key as it is decided.
  const authState = new Map<StateKey, string>(unconflicted);
  const resolved = new Map<StateKey, string>();
  const phase = (pick: (key: StateKey) => boolean, resolve: (events: StateEvent[]) => StateEvent) => {
    for (const [key, events] of conflicted) {
      if (resolved.has(key) || !pick(key)) continue;
      resolved.set(key, resolve(events).event_id);
    }
    for (const [key, id] of resolved) authState.set(key, id);
  };
  const ofType = (type: string) => (key: StateKey) => parseStateKey(key)[0] === type;
  const authResolve = (events: StateEvent[]) => resolveAuthEvents(version, events, authState, fetchEvent);
  phase(ofType('m.room.power_levels'), authResolve);
  phase(ofType('m.room.join_rules'), authResolve);
  phase(ofType('m.room.member'), authResolve);
  phase(() => true, (events) => resolveNormalEvents(version, events, authState, fetchEvent));
  return new Map([...unconflicted, ...resolved]);
}

/** Deepest first; at equal depth the smaller SHA-1 (hex) of the event ID first. */
function ordered(events: readonly StateEvent[]): StateEvent[] {
  const sha1 = (id: string) => createHash('sha1').update(id).digest('hex');
  return [...events].sort((a, b) => b.depth - a.depth || (sha1(a.event_id) < sha1(b.event_id) ? -1 : 1));
}

/** From the least deep up: each candidate is checked against the state with the one before it; the last that passes wins. */
function resolveAuthEvents(version: RoomVersion, events: StateEvent[], authState: Map<StateKey, string>, fetchEvent: EventLookup): StateEvent {
  const ascending = ordered(events).reverse();
  const state = new Map(authState);
  let previous = ascending[0]!;
  for (const event of ascending.slice(1)) {
    state.set(stateKey(previous.type, previous.state_key!), previous.event_id);
    if (!allowed(version, event, state, fetchEvent)) return previous;
    previous = event;
  }
  return previous;
}

function resolveNormalEvents(version: RoomVersion, events: StateEvent[], authState: Map<StateKey, string>, fetchEvent: EventLookup): StateEvent {
  const candidates = ordered(events);
  for (const event of candidates) if (allowed(version, event, authState, fetchEvent)) return event;
  return candidates[candidates.length - 1]!;
}

function allowed(version: RoomVersion, event: StateEvent, state: Map<StateKey, string>, fetchEvent: EventLookup): boolean {
  const needed = new Set(authEventsSelection(event, version).map(([type, key]) => stateKey(type, key)));
  try {
    return authorize(event, (type, key) => {
      const k = stateKey(type, key);
      const id = needed.has(k) ? state.get(k) : undefined;
      return id === undefined ? undefined : fetchEvent(id);
    }, version).allowed;
  } catch {
    return false;
  }
}
