/**
 * The iterative auth checks of state resolution v2 (spec: rooms v2+, "State resolution", "Definitions"): apply a
 * sorted list of state events to a room state, each one only if the authorization rules allow it against that
 * state; a key the rules need that the state lacks is read from the event's own auth_events.
 */
import { authEventsSelection, authorize } from './auth-rules';
import type { RoomVersion } from './room-versions';
import { stateKey, type EventLookup, type StateEvent, type StateKey, type StateMap } from './state-event';

export function iterativeAuthChecks(
  version: RoomVersion,
  eventIds: readonly string[],
  initialState: StateMap,
  fetchEvent: EventLookup,
): Map<StateKey, string> {
  const state = new Map(initialState);
  for (const eventId of eventIds) {
    const event = fetchEvent(eventId);
    if (event === undefined || event.state_key === null) continue;
    if (isAllowed(event, version, state, fetchEvent)) state.set(stateKey(event.type, event.state_key), eventId);
  }
  return state;
}

/**
 * The authorization rules, against the partial state for the keys of the event's auth events selection and the
 * event's own auth_events for the rest (as Synapse and ruma build it). An event the rules refuse, or cannot read,
 * is ignored, never raised: the spec says such an event "is ignored" (ruma#2035 stopped propagating these errors).
 * An error of the lookup itself is not the event's fault and is raised.
 *
 * A rejected auth event must not be used ("if the auth event is not rejected"); none can be met here: the state
 * sets hold accepted events only, and the rules reject an event citing a rejected auth event, so no accepted
 * event's auth chain holds one. A lookup that hides rejected events makes them missing, which has the same effect.
 * A missing auth event is skipped, as Synapse and ruma skip it (with a warning).
 */
function isAllowed(event: StateEvent, version: RoomVersion, state: StateMap, fetchEvent: EventLookup): boolean {
  let lookupFailed = false;
  const fetch: EventLookup = (id) => {
    try {
      return fetchEvent(id);
    } catch (error) {
      lookupFailed = true;
      throw error;
    }
  };
  try {
    const selection = authEventsSelection(event, version);
    const authEvents = event.auth_events.map((id) => fetch(id));
    const authState = (type: string, key: string): StateEvent | undefined => {
      if (selection.some(([t, k]) => t === type && k === key)) {
        const resolvedId = state.get(stateKey(type, key));
        const resolved = resolvedId === undefined ? undefined : fetch(resolvedId);
        if (resolved !== undefined) return resolved;
      }
      let cited: StateEvent | undefined;
      for (const authEvent of authEvents) {
        if (authEvent?.type === type && authEvent.state_key === key) cited = authEvent;
      }
      if (cited === undefined && type === 'm.room.create' && key === '') return createEventFor(event, version, fetch);
      return cited;
    };
    return authorize(event, authState, version).allowed;
  } catch (error) {
    if (lookupFailed) throw error;
    return false;
  }
}

/**
 * The room's create event as an event sees it: from v12 (MSC4291) the one the room ID names (`!` + the create
 * event's ID without `$`), which auth_events no longer lists; before, the one among its auth_events. The create
 * event is its own.
 */
export function createEventFor(
  event: StateEvent,
  version: RoomVersion,
  fetchEvent: EventLookup,
): StateEvent | undefined {
  if (event.type === 'm.room.create' && event.state_key === '') return event;
  if (version.roomIdIsCreateEventId) {
    const create = fetchEvent(`$${event.room_id.slice(1)}`);
    if (create !== undefined) return create;
  }
  for (const id of event.auth_events) {
    const authEvent = fetchEvent(id);
    if (authEvent?.type === 'm.room.create' && authEvent.state_key === '') return authEvent;
  }
  return undefined;
}
