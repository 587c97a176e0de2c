/**
 * Mainline ordering (spec: rooms v2+, "State resolution", "Definitions"): the events that are not power events are
 * replayed in the order of the power levels "epoch" they were sent in, oldest epoch first, found by following
 * m.room.power_levels auth events back to the mainline of the resolved power levels.
 */
import type { EventLookup, StateEvent } from './state-event';

/**
 * The events ordered by mainline position descending (an event based on an older power levels event first, an
 * event with no power levels ancestor at all first of all), then origin_server_ts ascending, then event_id
 * ascending. Events the lookup cannot find are left out, as ruma leaves them out.
 */
export function mainlineOrdering(
  eventIds: Iterable<string>,
  resolvedPowerLevelsId: string | undefined,
  fetchEvent: EventLookup,
): string[] {
  // The mainline of P_0: event ID -> index i of P_i.
  const mainline = new Map<string, number>();
  for (let id = resolvedPowerLevelsId; id !== undefined && !mainline.has(id); id = powerLevelsAuthEvent(id, fetchEvent)) {
    mainline.set(id, mainline.size);
  }
  const keyed: MainlineKey[] = [];
  for (const id of eventIds) {
    const event = fetchEvent(id);
    if (event === undefined) continue;
    keyed.push({ id, position: mainlinePosition(event, mainline, fetchEvent), ts: event.origin_server_ts });
  }
  return keyed.sort(compareMainlineKeys).map(({ id }) => id);
}

interface MainlineKey {
  readonly id: string;
  readonly position: number;
  readonly ts: number;
}

function compareMainlineKeys(a: MainlineKey, b: MainlineKey): number {
  if (a.position !== b.position) return a.position > b.position ? -1 : 1;
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The index i of the first P_i of the mainline met walking e_1, e_2, ... (each the m.room.power_levels event among
 * the previous one's auth events; e_0, the event itself, is not looked at), or Infinity when the walk meets none.
 * The walk moves on at every step: Synapse once looked up the starting event at every step and so found no
 * position for an event citing a power levels event off the mainline (synapse#8971). Infinity stays apart from
 * the oldest mainline event's position (ruma#2480).
 */
export function mainlinePosition(
  event: StateEvent,
  mainline: ReadonlyMap<string, number>,
  fetchEvent: EventLookup,
): number {
  const walked = new Set<string>(); // a loop of power levels events (never in a valid room) ends the walk
  let id = powerLevelsAuthEvent(event, fetchEvent);
  while (id !== undefined && !walked.has(id)) {
    const position = mainline.get(id);
    if (position !== undefined) return position;
    walked.add(id);
    id = powerLevelsAuthEvent(id, fetchEvent);
  }
  return Infinity;
}

/** The m.room.power_levels event among an event's auth events; an auth event we do not hold is skipped. */
function powerLevelsAuthEvent(eventOrId: StateEvent | string, fetchEvent: EventLookup): string | undefined {
  const event = typeof eventOrId === 'string' ? fetchEvent(eventOrId) : eventOrId;
  for (const id of event?.auth_events ?? []) {
    const authEvent = fetchEvent(id);
    if (authEvent?.type === 'm.room.power_levels' && authEvent.state_key === '') return id;
  }
  return undefined;
}
