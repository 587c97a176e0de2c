/**
 * Small hand-built room DAGs for the state resolution tests, in the shape ruma's and Synapse's state-res tests use:
 * events with explicit prev_events and auth_events in an in-memory map that serves as the event lookup, and two
 * ways to walk a DAG forward computing the state at each event.
 */
import { authEventsSelection } from '../../src/core/auth-rules';
import type { RoomVersion } from '../../src/core/room-versions';
import { parseStateKey, stateKey, type EventLookup, type StateEvent, type StateMap } from '../../src/core/state-event';

export type Resolver = (stateSets: readonly StateMap[]) => StateMap;

export interface EventSpec {
  readonly id: string;
  readonly sender: string;
  readonly type: string;
  /** Omitted for a message event. */
  readonly state_key?: string;
  readonly content?: Record<string, unknown>;
  readonly ts?: number;
  readonly prev?: readonly string[];
  readonly auth?: readonly string[];
}

export class RoomDag {
  readonly events = new Map<string, StateEvent>();
  /** Events the lookup pretends not to hold (never fetched, or rejected). */
  readonly hidden = new Set<string>();

  constructor(
    readonly version: RoomVersion,
    readonly roomId: string,
  ) {}

  add(spec: EventSpec): StateEvent {
    const event: StateEvent = {
      event_id: spec.id,
      room_id: this.roomId,
      type: spec.type,
      state_key: spec.state_key ?? null,
      sender: spec.sender,
      content: spec.content ?? {},
      depth: 1 + Math.max(0, ...(spec.prev ?? []).map((id) => this.events.get(id)?.depth ?? 0)),
      origin_server_ts: spec.ts ?? 0,
      prev_events: spec.prev ?? [],
      auth_events: spec.auth ?? [],
    };
    this.events.set(event.event_id, event);
    return event;
  }

  readonly fetchEvent: EventLookup = (id) => (this.hidden.has(id) ? undefined : this.events.get(id));

  /** The state map made of these events. */
  state(eventIds: readonly string[]): StateMap {
    return new Map(
      eventIds.map((id) => {
        const event = this.events.get(id);
        if (event?.state_key == null) throw new Error(`${id} is not a state event of this DAG`);
        return [stateKey(event.type, event.state_key), id] as const;
      }),
    );
  }
}

/** A state map as a plain object, `type|state_key` -> event ID, so that jest prints a readable difference. */
export function named(state: StateMap): Record<string, string> {
  const entries = [...state].map(([key, id]) => {
    const [type, k] = parseStateKey(key);
    return [`${type}|${k}`, id] as const;
  });
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Synapse's `do_check` (tests/state/test_v2.py): the events, linked by chains of prev_events edges (`[A, B, C]`
 * means A's prev is B, B's prev is C), are created in the lexicographically smallest topological order of that
 * graph by node name, each with the next origin_server_ts and with the auth events its auth events selection picks
 * from the state before it. The state after a state event is the state before it plus the event, without an auth
 * check. Returns the state after each event.
 */
export function buildFromEdges(
  dag: RoomDag,
  specs: ReadonlyArray<Omit<EventSpec, 'prev' | 'auth' | 'ts'>>,
  edges: ReadonlyArray<readonly string[]>,
  resolve: Resolver,
  firstTs = 0,
): Map<string, StateMap> {
  const byName = new Map(specs.map((spec) => [spec.id, spec]));
  const prevs = new Map(specs.map((spec) => [spec.id, new Set<string>()]));
  for (const chain of edges) {
    for (let i = 0; i + 1 < chain.length; i++) prevs.get(chain[i]!)!.add(chain[i + 1]!);
  }
  const stateAfter = new Map<string, StateMap>();
  let ts = firstTs;
  for (const id of lexicographicalTopologicalSort(prevs)) {
    const spec = byName.get(id)!;
    const prevIds = [...prevs.get(id)!].sort();
    const prevStates = prevIds.map((prev) => stateAfter.get(prev)!);
    const before = prevStates.length === 0 ? new Map() : prevStates.length === 1 ? prevStates[0]! : resolve(prevStates);
    const draft = dag.add({ ...spec, prev: prevIds, ts });
    const auth = authEventsSelection(draft, dag.version)
      .map(([type, key]) => before.get(stateKey(type, key)))
      .filter((authId): authId is string => authId !== undefined);
    const event = dag.add({ ...spec, prev: prevIds, ts: ts++, auth: [...new Set(auth)] });
    const after = new Map(before);
    if (event.state_key !== null) after.set(stateKey(event.type, event.state_key), event.event_id);
    stateAfter.set(id, after);
  }
  return stateAfter;
}

/** Kahn's algorithm from the events with no prev_events, the smallest name first among those ready. */
function lexicographicalTopologicalSort(prevs: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const waiting = new Map([...prevs].map(([id, set]) => [id, set.size]));
  const next = new Map<string, string[]>();
  for (const [id, set] of prevs) for (const prev of set) next.set(prev, [...(next.get(prev) ?? []), id]);
  const ready = [...waiting].filter(([, n]) => n === 0).map(([id]) => id);
  const sorted: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    const id = ready.pop()!;
    sorted.push(id);
    for (const child of next.get(id) ?? []) {
      const n = waiting.get(child)! - 1;
      waiting.set(child, n);
      if (n === 0) ready.push(child);
    }
  }
  return sorted;
}

/**
 * ruma's `resolve_iteratively` (crates/ruma-state-res/tests/it/resolve/macros.rs): walk the DAG forward by
 * prev_events; the state before an event resolves the states after its prev events, the state after a state event
 * resolves [state before, state before + event] (which authorises it), and the result resolves the states after
 * the DAG's leaves (events no other event names as a prev event).
 */
export function resolveByPrevEvents(dag: RoomDag, eventIds: readonly string[], resolve: Resolver): StateMap {
  const resolveMany = (sets: readonly StateMap[]) => (sets.length === 1 ? sets[0]! : resolve(sets));
  const stateAfter = new Map<string, StateMap>();
  const pending = [...eventIds];
  while (pending.length > 0) {
    const index = pending.findIndex((id) => dag.events.get(id)!.prev_events.every((prev) => stateAfter.has(prev)));
    if (index < 0) throw new Error('a prev event is missing from the DAG');
    const event = dag.events.get(pending.splice(index, 1)[0]!)!;
    const before = event.prev_events.length === 0 ? new Map() : resolveMany(event.prev_events.map((prev) => stateAfter.get(prev)!));
    if (event.state_key === null) {
      stateAfter.set(event.event_id, before);
    } else {
      const proposed = new Map(before).set(stateKey(event.type, event.state_key), event.event_id);
      stateAfter.set(event.event_id, resolve([before, proposed]));
    }
  }
  const referenced = new Set(eventIds.flatMap((id) => dag.events.get(id)!.prev_events));
  return resolveMany(eventIds.filter((id) => !referenced.has(id)).map((id) => stateAfter.get(id)!));
}

/** ruma's atomic resolution: every state event its own one-entry state map, all resolved in one call. */
export function resolveAtOnce(dag: RoomDag, eventIds: readonly string[], resolve: Resolver): StateMap {
  return resolve(eventIds.map((id) => dag.state([id])));
}
