/**
 * The state before and after one event, and whether the event is accepted (spec: server-server API, "Checks
 * performed on receipt of a PDU", steps 4 and 5): it must pass the authorization rules against its own auth_events
 * and against the state before it, or it is rejected. A rejected event is kept (the DAG goes through it) but never
 * enters any state: the state after it is the state before it, as in Synapse.
 *
 * The state before an event is the state after its one prev event, or the resolution of the states after each of
 * its prev events. Pure: the caller passes the states after the prev events and a lookup that finds every event
 * those states, the event's auth_events and their auth chains name.
 */
import { authorize, authorizeByAuthEvents } from './auth-rules';
import { deriveState, snapshotState, stateDifference, stateGet, stateMap, type RoomState } from './room-state';
import type { RoomVersion } from './room-versions';
import { resolveState } from './state-resolution';
import { stateKey, type EventLookup, type StateEvent } from './state-event';

export type Verdict = { readonly kind: 'accepted' } | { readonly kind: 'rejected'; readonly reason: string };

export interface EventState {
  readonly verdict: Verdict;
  readonly before: RoomState;
  readonly after: RoomState;
}

export interface EventStateInputs {
  readonly event: StateEvent;
  readonly version: RoomVersion;
  /** The state after each of the event's prev_events (none for the create event). */
  readonly prevStates: readonly RoomState[];
  readonly lookup: EventLookup;
  /** Whether a stored event was rejected. */
  readonly isRejected: (eventId: string) => boolean;
}

const EMPTY: RoomState = snapshotState(new Map(), () => undefined);

export function computeEventState({ event, version, prevStates, lookup, isRejected }: EventStateInputs): EventState {
  const before = stateBefore(version, prevStates, lookup);
  const verdict = check(event, version, before, lookup, isRejected);
  const after =
    verdict.kind === 'accepted' && event.state_key !== null
      ? deriveState(before, new Map([[stateKey(event.type, event.state_key), event.event_id]]), lookup)
      : before;
  return { verdict, before, after };
}

/**
 * The resolution of several states, stored as a delta on the input it differs least from (ties: the smaller
 * state ID), so the result is the same whatever order the inputs come in.
 */
export function resolveStates(version: RoomVersion, states: readonly RoomState[], lookup: EventLookup): RoomState {
  const distinct = [...new Map(states.map((state) => [state.state_id, state])).values()];
  if (distinct.length === 0) return EMPTY;
  if (distinct.length === 1) return distinct[0]!;
  const maps = distinct.map(stateMap);
  const resolved = resolveState(version, maps, lookup);
  let best: { state: RoomState; changes: ReturnType<typeof stateDifference> } | undefined;
  distinct.forEach((state, i) => {
    const changes = stateDifference(maps[i]!, resolved);
    if (best === undefined || changes.size < best.changes.size || (changes.size === best.changes.size && state.state_id < best.state.state_id)) {
      best = { state, changes };
    }
  });
  return deriveState(best!.state, best!.changes, lookup);
}

/**
 * Why `event` fails the authorization rules against `current` (the room's current state), or undefined when it
 * passes: the soft-failure check (spec: "Checks performed on receipt of a PDU", step 6).
 */
export function softFailure(event: StateEvent, current: RoomState, version: RoomVersion, lookup: EventLookup): string | undefined {
  if (event.type === 'm.room.create' && event.state_key === '') return undefined;
  const result = authorize(event, (type, key) => {
    const id = type === 'm.room.create' && key === '' && version.roomIdIsCreateEventId ? `$${event.room_id.slice(1)}` : stateGet(current, stateKey(type, key));
    return id === undefined ? undefined : lookup(id);
  }, version);
  return result.allowed ? undefined : `fails the authorization rules on the room's current state: ${result.reason}`;
}

function stateBefore(version: RoomVersion, prevStates: readonly RoomState[], lookup: EventLookup): RoomState {
  return resolveStates(version, prevStates, lookup);
}

function check(event: StateEvent, version: RoomVersion, before: RoomState, lookup: EventLookup, isRejected: (id: string) => boolean): Verdict {
  const authEvents = event.auth_events.map(lookup).filter((found): found is StateEvent => found !== undefined);
  const create = createEventOf(event, version, before, lookup);
  const byAuthEvents = authorizeByAuthEvents(event, authEvents, create, isRejected, version);
  if (!byAuthEvents.allowed) return { kind: 'rejected', reason: `fails the authorization rules on its auth_events: ${byAuthEvents.reason}` };
  if (event.type === 'm.room.create' && event.state_key === '') return { kind: 'accepted' };
  const byState = authorize(event, (type, key) => {
    if (type === 'm.room.create' && key === '' && create !== undefined) return create;
    const id = stateGet(before, stateKey(type, key));
    return id === undefined ? undefined : lookup(id);
  }, version);
  if (!byState.allowed) return { kind: 'rejected', reason: `fails the authorization rules on the state before it: ${byState.reason}` };
  return { kind: 'accepted' };
}

/** The room's create event: v12 names it in the room ID (MSC4291); earlier versions have it in the state. */
function createEventOf(event: StateEvent, version: RoomVersion, before: RoomState, lookup: EventLookup): StateEvent | undefined {
  if (event.type === 'm.room.create' && event.state_key === '') return event;
  const id = version.roomIdIsCreateEventId ? `$${event.room_id.slice(1)}` : before.summary.create_event_id;
  return id === null ? undefined : lookup(id);
}
