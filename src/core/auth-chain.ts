/**
 * Auth chains and the sets state resolution v2 builds from them (spec: rooms v2+, "State resolution",
 * "Definitions"): the auth chain of an event, the full auth chain of a state, the auth difference of several states
 * and (v2.1, room version 12) the conflicted state subgraph. Pure: events are read through a lookup.
 *
 * An event the lookup cannot find is not walked through: its own auth events stay unknown, as in Synapse and ruma,
 * which build these sets from the events they hold.
 */
import type { EventLookup, StateMap } from './state-event';

/**
 * The auth chain of an event: its auth events, their auth events and so on. The event itself is not in it, unless
 * the auth graph loops back to it (which a valid room never does).
 */
export function authChain(eventId: string, fetchEvent: EventLookup): Set<string> {
  return fullAuthChain([eventId], fetchEvent);
}

/**
 * The union of the auth chains of several events. An event of the input is in it only when it is in the auth
 * chain of another (or its own): the spec's full auth chain of a state is "the union of the auth chains for each
 * event", which do not hold the events themselves, and gomatrixserverlib and ruma's tests read it so. Synapse's
 * chain cover index also counts each state's own events, so an unconflicted event is never in its auth difference;
 * by the spec's definition one is when the events of some states cite it and those of others do not. Replayed, it
 * can move the partial state's power levels, and with them the mainline, so the two readings can disagree; the
 * final unconflicted overlay gives the event's own key back either way.
 *
 * The walk does not go below the events of `known`, whose auth chains the caller already has.
 */
export function fullAuthChain(
  eventIds: Iterable<string>,
  fetchEvent: EventLookup,
  known?: ReadonlySet<string>,
): Set<string> {
  const chain = new Set<string>();
  const stack: string[] = [];
  const pushAuthEvents = (id: string) => {
    for (const authId of fetchEvent(id)?.auth_events ?? []) {
      if (!chain.has(authId) && known?.has(authId) !== true) {
        chain.add(authId);
        stack.push(authId);
      }
    }
  };
  for (const id of eventIds) pushAuthEvents(id);
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) pushAuthEvents(id);
  return chain;
}

/**
 * The auth difference of several states: the events in some but not all of their full auth chains,
 * ∪ C_i − ∩ C_i. The auth chains of the events every state holds are in every C_i: they are walked once, and the
 * walk from each state's other events stops where it meets them.
 */
export function authDifference(stateSets: readonly StateMap[], fetchEvent: EventLookup): Set<string> {
  const [first, ...others] = stateSets.map((state) => new Set(state.values()));
  if (first === undefined) return new Set();
  const inEveryState = new Set([...first].filter((id) => others.every((ids) => ids.has(id))));
  const common = fullAuthChain(inEveryState, fetchEvent);
  const counts = new Map<string, number>();
  for (const ids of [first, ...others]) {
    const own = [...ids].filter((id) => !inEveryState.has(id));
    for (const id of fullAuthChain(own, fetchEvent, common)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const difference = new Set<string>();
  for (const [id, count] of counts) if (count < stateSets.length) difference.add(id);
  return difference;
}

/**
 * The conflicted state subgraph (room version 12, MSC4297): every event on an auth_events path from one event of
 * the conflicted state set to another, endpoints included. An event is on such a path when it is in the auth chain
 * of a conflicted event and a conflicted event is in its own auth chain (or it is conflicted itself).
 */
export function conflictedStateSubgraph(conflicted: ReadonlySet<string>, fetchEvent: EventLookup): Set<string> {
  // reaches: whether a conflicted event is in an event's auth chain, worked out once for every event below the
  // conflicted ones. Depth first, one auth event at a time, so the stack is the current path: when a walk meets a
  // conflicted event, every event on the path reaches it. An event on the path counts as not reaching one until
  // its walk ends, which only matters for a loop (a valid room has none).
  const reaches = new Map<string, boolean>();
  for (const start of fullAuthChain(conflicted, fetchEvent)) {
    if (reaches.has(start)) continue;
    reaches.set(start, false);
    const stack = [{ id: start, authEvents: fetchEvent(start)?.auth_events ?? [], next: 0 }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const authId = frame.authEvents[frame.next++];
      if (authId === undefined) {
        stack.pop();
      } else if (conflicted.has(authId) || reaches.get(authId) === true) {
        for (const { id } of stack) reaches.set(id, true);
        break;
      } else if (!reaches.has(authId)) {
        reaches.set(authId, false);
        stack.push({ id: authId, authEvents: fetchEvent(authId)?.auth_events ?? [], next: 0 });
      }
    }
  }
  const subgraph = new Set(conflicted);
  for (const [id, reachesConflicted] of reaches) if (reachesConflicted) subgraph.add(id);
  return subgraph;
}
