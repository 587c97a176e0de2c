/**
 * State resolution (spec: server-server API, "Room State Resolution"): the state before an event with several
 * prev_events, and the room's current state from its forward extremities. The room version chooses the algorithm:
 * v1 for room version 1, v2 for 2-11, v2.1 (MSC4297) for 12.
 */
import type { RoomVersion } from './room-versions';
import type { EventLookup, StateMap } from './state-event';
import { resolveStateV1 } from './state-resolution-v1';
import { resolveStateV2 } from './state-resolution-v2';

export function resolveState(version: RoomVersion, stateSets: readonly StateMap[], fetchEvent: EventLookup): StateMap {
  if (stateSets.length === 1) return stateSets[0]!;
  if (stateSets.length === 0) return new Map();
  return version.stateResolution === 'v1'
    ? resolveStateV1(version, stateSets, fetchEvent)
    : resolveStateV2(version, stateSets, fetchEvent);
}
