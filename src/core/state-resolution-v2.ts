/**
 * State resolution v2 (spec: rooms v2 to v11, "State resolution"; matrix-spec content/rooms/fragments/
 * v2-state-res.md) and v2.1 (room version 12, MSC4297), which is v2 with two differences, switched on by
 * `version.stateResolution === 'v2.1'`:
 *   1. the full conflicted set also holds the conflicted state subgraph, the auth events between conflicting
 *      events, so that they are replayed too;
 *   2. the power events are replayed from an empty state instead of the unconflicted state map, so that each is
 *      authorised against what it cites and what was replayed before it, not against state it may not have seen.
 *
 * Pure: `fetchEvent` finds the events of the state sets and of their auth chains that we hold. An event it cannot
 * find is left out of the full conflicted set, as Synapse and ruma leave out the events they cannot fetch ("don't
 * honor events we cannot verify"); it is never walked through, and a missing auth event is skipped in the auth
 * checks. The spec assumes every server holds the whole auth chain, so a missing event can make us differ from
 * servers that hold it. Rejected events never appear in state sets.
 */
import { authDifference, conflictedStateSubgraph, fullAuthChain } from './auth-chain';
import { iterativeAuthChecks } from './iterative-auth-checks';
import { mainlineOrdering } from './mainline-ordering';
import { isPowerEvent, reverseTopologicalPowerOrdering } from './power-events';
import type { RoomVersion } from './room-versions';
import { stateKey, type EventLookup, type StateKey, type StateMap } from './state-event';

const POWER_LEVELS = stateKey('m.room.power_levels', '');

export function resolveStateV2(version: RoomVersion, stateSets: readonly StateMap[], fetchEvent: EventLookup): StateMap {
  const { unconflicted, conflicted } = splitConflicted(stateSets);
  if (conflicted.size === 0) return unconflicted;
  const v21 = version.stateResolution === 'v2.1';

  const fullConflictedSet = new Set<string>();
  const addKnown = (ids: Iterable<string>) => {
    for (const id of ids) if (fetchEvent(id) !== undefined) fullConflictedSet.add(id);
  };
  addKnown(conflicted);
  addKnown(authDifference(stateSets, fetchEvent));
  if (v21) addKnown(conflictedStateSubgraph(conflicted, fetchEvent));

  // 1. The power events of the full conflicted set, with the events of their auth chains that are in it too
  //    (the whole auth chain, as the spec says; Synapse and ruma only walk down through events of the full
  //    conflicted set), sorted by the reverse topological power ordering.
  const powerEvents = new Set([...fullConflictedSet].filter((id) => isPowerEvent(fetchEvent(id)!)));
  for (const id of fullAuthChain(powerEvents, fetchEvent)) if (fullConflictedSet.has(id)) powerEvents.add(id);
  const sortedPowerEvents = reverseTopologicalPowerOrdering(powerEvents, version, fetchEvent);

  // 2. The iterative auth checks on them, from the unconflicted state map (v2) or from an empty state (v2.1).
  const initialState = v21 ? new Map<StateKey, string>() : unconflicted;
  const partiallyResolved = iterativeAuthChecks(version, sortedPowerEvents, initialState, fetchEvent);

  // 3. The other events, in mainline order of the power levels of the partially resolved state.
  const others = [...fullConflictedSet].filter((id) => !powerEvents.has(id));
  const sortedOthers = mainlineOrdering(others, partiallyResolved.get(POWER_LEVELS), fetchEvent);

  // 4. The iterative auth checks on them, from the partially resolved state.
  const resolved = iterativeAuthChecks(version, sortedOthers, partiallyResolved, fetchEvent);

  // 5. The unconflicted state map wins over whatever the replay put under its keys.
  for (const [key, id] of unconflicted) resolved.set(key, id);
  return resolved;
}

/**
 * The unconflicted state map (keys with the same event in every state) and the conflicted state set (the events
 * of every other key, a key missing from some states included).
 */
export function splitConflicted(stateSets: readonly StateMap[]): {
  unconflicted: Map<StateKey, string>;
  conflicted: Set<string>;
} {
  const unconflicted = new Map<StateKey, string>();
  const conflicted = new Set<string>();
  const keys = new Set<StateKey>();
  for (const state of stateSets) for (const key of state.keys()) keys.add(key);
  for (const key of keys) {
    const ids = new Set(stateSets.map((state) => state.get(key)));
    const [only] = ids;
    if (ids.size === 1 && only !== undefined) unconflicted.set(key, only);
    else for (const id of ids) if (id !== undefined) conflicted.add(id);
  }
  return { unconflicted, conflicted };
}
