/**
 * Power events and their reverse topological power ordering (spec: rooms v2+, "State resolution", "Definitions").
 * Power events are the events that might take someone's ability to do something away; state resolution replays
 * them first, earliest first, and the most powerful senders first among events the auth DAG does not order.
 */
import { createEventFor } from './iterative-auth-checks';
import { userPowerLevel } from './power-levels';
import type { RoomVersion } from './room-versions';
import type { EventLookup, StateEvent } from './state-event';

/**
 * m.room.power_levels, m.room.join_rules, and an m.room.member leave or ban whose sender is not its target (a kick
 * or a ban). Synapse and ruma also count m.room.create; the spec does not, and the create event is in no conflict
 * that can be resolved anyway.
 */
export function isPowerEvent(event: StateEvent): boolean {
  if (event.state_key === null) return false;
  if (event.type === 'm.room.power_levels' || event.type === 'm.room.join_rules') return event.state_key === '';
  if (event.type !== 'm.room.member') return false;
  const membership = event.content['membership'];
  return (membership === 'leave' || membership === 'ban') && event.sender !== event.state_key;
}

/**
 * The power level of the event's sender "when looking at their respective auth_events": the m.room.power_levels
 * event among its auth events, and the create event (for the creator's level without power levels, and for v12's
 * infinitely powerful creators).
 */
export function senderPowerLevel(event: StateEvent, version: RoomVersion, fetchEvent: EventLookup): number {
  let powerLevels: StateEvent | undefined;
  for (const id of event.auth_events) {
    const authEvent = fetchEvent(id);
    if (authEvent?.type === 'm.room.power_levels' && authEvent.state_key === '') powerLevels = authEvent;
  }
  const create = createEventFor(event, version, fetchEvent);
  try {
    return userPowerLevel(event.sender, powerLevels, create, version);
  } catch {
    // A level the rules cannot read (a string in v10+) gives the sender no precedence; it cannot fail the sort.
    return 0;
  }
}

/**
 * The reverse topological power ordering of a set of events: Kahn's algorithm on the DAG their auth events form,
 * picking at each step the smallest ready event by (sender's power level descending, origin_server_ts ascending,
 * event_id ascending). An edge joins an event to the nearest events of the set in its auth chain, walking through
 * events outside the set, so the order respects every auth chain relation between events of the set. (Synapse and
 * ruma link an event only to its auth events in the full conflicted set, and so can lose a relation that passes
 * through an event outside it.) Events on a loop of auth events, which no valid room has, are never ready and are
 * left out, as Kahn's algorithm leaves them.
 */
export function reverseTopologicalPowerOrdering(
  eventIds: ReadonlySet<string>,
  version: RoomVersion,
  fetchEvent: EventLookup,
): string[] {
  const events = new Map<string, StateEvent>();
  for (const id of eventIds) {
    const event = fetchEvent(id);
    if (event !== undefined) events.set(id, event);
  }
  const sortKeys = new Map<string, SortKey>();
  for (const [id, event] of events) {
    sortKeys.set(id, [-senderPowerLevel(event, version, fetchEvent), event.origin_server_ts, id]);
  }

  // outDegree: how many auth ancestors in the set an event still waits for; dependents: the reverse edges.
  const outDegree = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  const nearest = nearestAncestorsInSet(events, fetchEvent);
  for (const id of events.keys()) {
    const ancestors = nearest(id);
    outDegree.set(id, ancestors.size);
    for (const ancestor of ancestors) {
      const list = dependents.get(ancestor);
      if (list === undefined) dependents.set(ancestor, [id]);
      else list.push(id);
    }
  }

  const ready = new ReadyQueue(sortKeys);
  for (const [id, degree] of outDegree) if (degree === 0) ready.push(id);
  const sorted: string[] = [];
  for (let id = ready.popSmallest(); id !== undefined; id = ready.popSmallest()) {
    sorted.push(id);
    for (const dependent of dependents.get(id) ?? []) {
      const degree = outDegree.get(dependent)! - 1;
      outDegree.set(dependent, degree);
      if (degree === 0) ready.push(dependent);
    }
  }
  return sorted;
}

/** [−power level, origin_server_ts, event_id]: compared element by element, the smallest sorts first. */
type SortKey = readonly [number, number, string];

function compareSortKeys(a: SortKey, b: SortKey): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0;
}

/**
 * For an event of the set, the events of the set first met walking down its auth events, not walking past them.
 * What lies below each event outside the set is worked out once (a post-order walk with an explicit stack), so
 * the room's older history is walked once, not once per event of the set.
 */
const NONE: ReadonlySet<string> = new Set();

function nearestAncestorsInSet(
  set: ReadonlyMap<string, StateEvent>,
  fetchEvent: EventLookup,
): (eventId: string) => Set<string> {
  const below = new Map<string, ReadonlySet<string>>(); // event outside the set -> nearest events of the set
  const collect = (authEvents: readonly string[], into: Set<string>) => {
    for (const id of authEvents) {
      if (set.has(id)) into.add(id);
      else for (const ancestor of below.get(id) ?? []) into.add(ancestor);
    }
  };
  const walk = (start: string) => {
    // Depth first, one auth event at a time, so the stack is the current path; an event met again while on it
    // (a loop, which a valid room never has) is not walked into again.
    const onPath = new Set<string>([start]);
    const stack = [{ id: start, authEvents: fetchEvent(start)?.auth_events ?? [], next: 0 }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const authId = frame.authEvents[frame.next++];
      if (authId === undefined) {
        const ancestors = new Set<string>();
        collect(frame.authEvents, ancestors);
        below.set(frame.id, ancestors.size === 0 ? NONE : ancestors);
        onPath.delete(frame.id);
        stack.pop();
      } else if (!set.has(authId) && !below.has(authId) && !onPath.has(authId)) {
        onPath.add(authId);
        stack.push({ id: authId, authEvents: fetchEvent(authId)?.auth_events ?? [], next: 0 });
      }
    }
  };
  return (eventId) => {
    const authEvents = set.get(eventId)?.auth_events ?? [];
    for (const id of authEvents) if (!set.has(id) && !below.has(id)) walk(id);
    const ancestors = new Set<string>();
    collect(authEvents, ancestors);
    ancestors.delete(eventId);
    return ancestors;
  };
}

/** The ready events of Kahn's algorithm, kept sorted largest first so that the smallest pops from the end. */
class ReadyQueue {
  private readonly ids: string[] = [];

  constructor(private readonly keys: ReadonlyMap<string, SortKey>) {}

  push(id: string): void {
    const key = this.keys.get(id)!;
    let low = 0;
    let high = this.ids.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareSortKeys(this.keys.get(this.ids[middle]!)!, key) > 0) low = middle + 1;
      else high = middle;
    }
    this.ids.splice(low, 0, id);
  }

  popSmallest(): string | undefined {
    return this.ids.pop();
  }
}
