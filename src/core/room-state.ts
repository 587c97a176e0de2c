/**
 * Room states as they are stored: a state is a delta on a parent state, and after at most MAX_HOPS deltas a full
 * snapshot, as Synapse's state groups are (a delta on a previous group, a snapshot after 100 hops). A message event
 * shares the state of its parent, so only state events and merges make new states, and storage grows as the
 * number of state changes, not as events x state size. Looking up one key reads at most MAX_HOPS small deltas.
 *
 * Each state also carries a summary of what serving a request reads (the create and server ACL events, the
 * history visibility, the join rule, which servers have joined or invited members), kept up to date from the
 * delta alone, so the hot path reads one small node per event and never the state itself.
 *
 * A state's ID is derived from its content relative to its parent (a snapshot: from all of its entries), so the
 * same events imported in any order give the same IDs. Pure: events are looked up through the function passed in.
 */
import { createHash } from 'node:crypto';
import { serverNameOf } from './identifiers';
import { stateKey, type EventLookup, type StateKey, type StateMap } from './state-event';

/** Synapse's MAX_STATE_DELTA_HOPS: a snapshot after this many deltas. */
export const MAX_HOPS = 100;

export interface StateSummary {
  readonly create_event_id: string | null;
  readonly server_acl_event_id: string | null;
  /** The m.room.history_visibility content's `history_visibility` when it is a string, else null. */
  readonly history_visibility: string | null;
  readonly join_rule: string | null;
  /** Server name -> number of its users whose membership is `join` (servers with none are absent). */
  readonly joined: ReadonlyMap<string, number>;
  /** Server name -> number of its users whose membership is `invite`. */
  readonly invited: ReadonlyMap<string, number>;
}

export interface RoomState {
  readonly state_id: string;
  /** The state this one is a delta on; undefined for a snapshot. */
  readonly parent: RoomState | undefined;
  /** Deltas between this state and its snapshot (0 for a snapshot). */
  readonly hops: number;
  /** A snapshot: every entry. A delta: the entries that differ from the parent, null where a key was removed. */
  readonly entries: ReadonlyMap<StateKey, string | null>;
  readonly size: number;
  readonly summary: StateSummary;
}

const CREATE = stateKey('m.room.create', '');
const SERVER_ACL = stateKey('m.room.server_acl', '');
const HISTORY_VISIBILITY = stateKey('m.room.history_visibility', '');
const JOIN_RULES = stateKey('m.room.join_rules', '');

export const EMPTY_SUMMARY: StateSummary = Object.freeze({
  create_event_id: null, server_acl_event_id: null, history_visibility: null, join_rule: null,
  joined: new Map(), invited: new Map(),
});

/** The event ID at `key`, or undefined: at most MAX_HOPS map reads. */
export function stateGet(state: RoomState, key: StateKey): string | undefined {
  for (let at: RoomState | undefined = state; at !== undefined; at = at.parent) {
    const value = at.entries.get(key);
    if (value !== undefined) return value ?? undefined;
    if (at.parent === undefined) return undefined;
  }
  return undefined;
}

/** Every entry of the state. */
export function stateMap(state: RoomState): Map<StateKey, string> {
  const chain: RoomState[] = [];
  for (let at: RoomState | undefined = state; at !== undefined; at = at.parent) chain.push(at);
  const map = new Map<StateKey, string>();
  for (let i = chain.length - 1; i >= 0; i--) {
    for (const [key, value] of chain[i]!.entries) {
      if (value === null) map.delete(key);
      else map.set(key, value);
    }
  }
  return map;
}

/** A snapshot holding exactly `map`. */
export function snapshotState(map: StateMap, lookup: EventLookup): RoomState {
  const entries = new Map(map);
  const summary = applyToSummary(EMPTY_SUMMARY, entries, () => undefined, lookup);
  return { state_id: stateId(undefined, entries), parent: undefined, hops: 0, entries, size: entries.size, summary };
}

/**
 * The state that is `parent` with `changes` applied (null removes a key). No change returns the parent itself;
 * past MAX_HOPS the result is a snapshot.
 */
export function deriveState(parent: RoomState, changes: ReadonlyMap<StateKey, string | null>, lookup: EventLookup): RoomState {
  const delta = new Map<StateKey, string | null>();
  let size = parent.size;
  for (const [key, value] of changes) {
    const before = stateGet(parent, key);
    if ((value ?? undefined) === before) continue;
    delta.set(key, value);
    size += before === undefined ? 1 : value === null ? -1 : 0;
  }
  if (delta.size === 0) return parent;
  if (parent.hops + 1 >= MAX_HOPS) {
    const map = stateMap(parent);
    for (const [key, value] of delta) {
      if (value === null) map.delete(key);
      else map.set(key, value);
    }
    return snapshotState(map, lookup);
  }
  const summary = applyToSummary(parent.summary, delta, (key) => stateGet(parent, key), lookup);
  return { state_id: stateId(parent.state_id, delta), parent, hops: parent.hops + 1, entries: delta, size, summary };
}

/** The changes that turn `from` into `to` (null removes a key). */
export function stateDifference(from: StateMap, to: StateMap): Map<StateKey, string | null> {
  const changes = new Map<StateKey, string | null>();
  for (const [key, value] of to) if (from.get(key) !== value) changes.set(key, value);
  for (const key of from.keys()) if (!to.has(key)) changes.set(key, null);
  return changes;
}

function stateId(parentId: string | undefined, entries: ReadonlyMap<StateKey, string | null>): string {
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash('sha256').update(JSON.stringify([parentId ?? null, sorted])).digest('base64url');
  return `s${hash}`;
}

/** The summary after `delta`, from the summary before it; `before(key)` is the event at the key before. */
function applyToSummary(
  summary: StateSummary,
  delta: ReadonlyMap<StateKey, string | null>,
  before: (key: StateKey) => string | undefined,
  lookup: EventLookup,
): StateSummary {
  let { create_event_id, server_acl_event_id, history_visibility, join_rule } = summary;
  let joined: Map<string, number> | undefined;
  let invited: Map<string, number> | undefined;
  for (const [key, eventId] of delta) {
    if (key === CREATE) create_event_id = eventId;
    else if (key === SERVER_ACL) server_acl_event_id = eventId;
    else if (key === HISTORY_VISIBILITY) history_visibility = stringContent(eventId, 'history_visibility', lookup);
    else if (key === JOIN_RULES) join_rule = stringContent(eventId, 'join_rule', lookup);
    else if (key.startsWith('["m.room.member",')) {
      const server = serverNameOf((JSON.parse(key) as [string, string])[1]);
      if (server === undefined) continue;
      const old = membershipOf(before(key), lookup);
      const now = membershipOf(eventId ?? undefined, lookup);
      if (old === now) continue;
      if (old === 'join' || now === 'join') joined ??= new Map(summary.joined);
      if (old === 'invite' || now === 'invite') invited ??= new Map(summary.invited);
      if (old === 'join') count(joined!, server, -1);
      if (old === 'invite') count(invited!, server, -1);
      if (now === 'join') count(joined!, server, 1);
      if (now === 'invite') count(invited!, server, 1);
    }
  }
  return {
    create_event_id, server_acl_event_id, history_visibility, join_rule,
    joined: joined ?? summary.joined, invited: invited ?? summary.invited,
  };
}

function count(counts: Map<string, number>, server: string, change: number): void {
  const next = (counts.get(server) ?? 0) + change;
  if (next > 0) counts.set(server, next);
  else counts.delete(server);
}

function membershipOf(eventId: string | undefined, lookup: EventLookup): string | null {
  if (eventId === undefined) return null;
  const membership = lookup(eventId)?.content.membership;
  return typeof membership === 'string' ? membership : null;
}

function stringContent(eventId: string | null, field: string, lookup: EventLookup): string | null {
  if (eventId === null) return null;
  const value = lookup(eventId)?.content[field];
  return typeof value === 'string' ? value : null;
}
