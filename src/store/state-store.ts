/**
 * The room states in the graph: (:State) nodes (a snapshot, or a delta on a parent via DELTA_OF) with their
 * summaries, each event's state_before and state_after (state IDs), rejected and pending events, and each room's
 * CURRENT_STATE. The store keeps the graph's shape; which event wins a conflict is decided in src/core.
 * Every function runs inside a transaction the caller holds, so the importer writes events and their states at once.
 */
import type { ManagedTransaction } from 'neo4j-driver';
import type { RoomState, StateSummary } from '../core/room-state';
import { parseStateKey, stateKey, type StateKey } from '../core/state-event';
import { loadCypher } from './cypher-files';
import { type Graph, int, profileDbHits, readTx, rows, writeTx } from './neo4j';

const QUERIES = loadCypher([
  'states-save',
  'event-states-save',
  'events-mark-pending',
  'event-states-load',
  'states-load',
  'room-state-events-load',
  'state-events-load',
  'state-pending-load',
  'room-extremities',
  'room-extremities-label',
  'extremities-update',
  'room-current-state-save',
  'state-summaries',
  'events-mark-soft-failed',
  'room-storage',
  'states-set-lists',
]);

export interface EventStateRow {
  readonly event_id: string;
  readonly state_before: string;
  readonly state_after: string;
  readonly rejected_reason: string | null;
}

export interface StoredEventState {
  readonly event_id: string;
  readonly room_id: string;
  /** Null for an event that is not a state event. */
  readonly state_key: string | null;
  readonly state_before: string | null;
  readonly state_after: string | null;
  readonly rejected_reason: string | null;
}

/** A state as loaded: its entries and summary, and the ID of the state it is a delta on. */
export interface LoadedState {
  readonly state_id: string;
  readonly parent_id: string | null;
  readonly hops: number;
  readonly size: number;
  readonly entries: Map<StateKey, string | null>;
  readonly summary: StateSummary;
}

/** Saves states (their parents first; a parent already stored is skipped) and the events' states. */
export async function saveEventStates(tx: ManagedTransaction, roomId: string, states: readonly RoomState[], events: readonly EventStateRow[]): Promise<void> {
  if (states.length > 0) await tx.run(QUERIES['states-save'], { states: states.map((state) => stateRow(roomId, state)) });
  if (events.length > 0) await tx.run(QUERIES['event-states-save'], { events });
  await updateExtremities(tx, events.map((row) => row.event_id));
}

export async function markPending(tx: ManagedTransaction, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length > 0) await tx.run(QUERIES['events-mark-pending'], { event_ids: eventIds });
}

export async function loadEventStates(tx: ManagedTransaction, eventIds: readonly string[]): Promise<StoredEventState[]> {
  if (eventIds.length === 0) return [];
  return rows<StoredEventState & Record<string, unknown>>(tx, QUERIES['event-states-load'], { event_ids: eventIds });
}

/** The named states and all the states they rest on. */
export async function loadStates(tx: ManagedTransaction, stateIds: readonly string[]): Promise<LoadedState[]> {
  if (stateIds.length === 0) return [];
  const found = await rows<StateRow>(tx, QUERIES['states-load'], { state_ids: stateIds });
  return found.map((row) => ({
    state_id: row.state_id,
    parent_id: row.parent_id,
    hops: row.hops,
    size: row.size,
    entries: new Map(row.types.map((type, i) => [stateKey(type, row.state_keys[i]!), row.event_ids[i] || null])),
    summary: {
      create_event_id: row.create_event_id,
      server_acl_event_id: row.server_acl_event_id,
      history_visibility: row.history_visibility,
      join_rule: row.join_rule,
      joined: new Map(row.joined_servers.map((server, i) => [server, row.joined_members[i]!])),
      invited: new Map(row.invited_servers.map((server, i) => [server, row.invited_members[i]!])),
    },
  }));
}

export async function loadRoomStateEvents(tx: ManagedTransaction, roomId: string): Promise<{ pdu: string; rejected_reason: string | null }[]> {
  return rows(tx, QUERIES['room-state-events-load'], { room_id: roomId });
}

export async function loadPending(
  tx: ManagedTransaction,
  roomId: string,
  after: { depth: number; event_id: string },
  limit: number,
): Promise<{ event_id: string; depth: number; pdu: string }[]> {
  return rows(tx, QUERIES['state-pending-load'], {
    room_id: roomId, after_depth: int(after.depth), after_event_id: after.event_id, limit: int(limit),
  });
}

export interface Extremity {
  readonly event_id: string;
  readonly state_after: string;
  readonly pdu: string;
}

/** Locks the room, then returns its forward extremities with their states (labelling them first if never done). */
export async function lockRoomExtremities(tx: ManagedTransaction, roomId: string): Promise<Extremity[]> {
  await tx.run(QUERIES['room-extremities-label'], { room_id: roomId });
  return rows(tx, QUERIES['room-extremities'], { room_id: roomId });
}

/** Keeps the label Extremity in step for events whose state may have become known in this transaction. */
export async function updateExtremities(tx: ManagedTransaction, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length > 0) await tx.run(QUERIES['extremities-update'], { event_ids: eventIds });
}

export async function saveCurrentState(tx: ManagedTransaction, roomId: string, stateId: string): Promise<void> {
  await tx.run(QUERIES['room-current-state-save'], { room_id: roomId, state_id: stateId });
}

interface StateRow extends Record<string, unknown> {
  state_id: string;
  parent_id: string | null;
  hops: number;
  size: number;
  types: string[];
  state_keys: string[];
  event_ids: string[];
  create_event_id: string | null;
  server_acl_event_id: string | null;
  history_visibility: string | null;
  join_rule: string | null;
  joined_servers: string[];
  joined_members: number[];
  invited_servers: string[];
  invited_members: number[];
}

function stateRow(roomId: string, state: RoomState) {
  const row = stateProperties(roomId, state);
  return { ...row, ...withIntegerMembers(row), hops: int(row.hops), size: int(row.size) };
}

/** The lists, with the member counts (where present) as Neo4j integers. */
function withIntegerMembers(lists: StateLists) {
  const { joined_members, invited_members, ...rest } = lists;
  return {
    ...rest,
    ...(joined_members === undefined ? {} : { joined_members: joined_members.map(int) }),
    ...(invited_members === undefined ? {} : { invited_members: invited_members.map(int) }),
  };
}

/** A state node's properties (states-save.cypher's row, numbers as they are), and its parent's ID. */
export function stateProperties(roomId: string, state: RoomState) {
  const keys = [...state.entries.keys()].map(parseStateKey);
  const { summary } = state;
  return {
    state_id: state.state_id,
    room_id: roomId,
    parent_id: state.parent?.state_id ?? null,
    hops: state.hops,
    size: state.size,
    types: keys.map(([type]) => type),
    state_keys: keys.map(([, key]) => key),
    // Neo4j lists hold no nulls: an empty string marks a removed key (an event ID is never empty).
    event_ids: [...state.entries.values()].map((id) => id ?? ''),
    create_event_id: summary.create_event_id,
    server_acl_event_id: summary.server_acl_event_id,
    history_visibility: summary.history_visibility,
    join_rule: summary.join_rule,
    joined_servers: [...summary.joined.keys()],
    joined_members: [...summary.joined.values()],
    invited_servers: [...summary.invited.keys()],
    invited_members: [...summary.invited.values()],
  };
}

/** The list properties of states-save.cypher that stateProperties gives. */
export type StateLists = Partial<Pick<ReturnType<typeof stateProperties>, 'types' | 'state_keys' | 'event_ids' | 'joined_servers' | 'joined_members' | 'invited_servers' | 'invited_members'>>;

/** What authorization and visibility read at an event, for one server (state-summaries.cypher). */
export interface StateSummaryRow {
  readonly event_id: string;
  readonly state_known: boolean;
  readonly create_event_id: string | null;
  readonly server_acl_event_id: string | null;
  readonly history_visibility: string | null;
  readonly join_rule: string | null;
  readonly server_joined: boolean;
  readonly server_invited: boolean;
}

/** A room's current state, the new states it rests on, and the extremities soft-failed on the way (all of them, once settled). */
export interface CurrentState {
  readonly state: RoomState;
  readonly states: readonly RoomState[];
  readonly softFailed: readonly { event_id: string; reason: string }[];
}

/** The state store over a graph: each call its own transaction, or (`within`) the caller's. */
export class StateStore {
  constructor(private readonly graph: Graph) {}

  /** Reads earlier imports' events and states, each read its own transaction. */
  readonly loader = {
    eventStates: (eventIds: readonly string[]) => readTx(this.graph, (tx) => loadEventStates(tx, eventIds)),
    states: (stateIds: readonly string[]) => readTx(this.graph, (tx) => loadStates(tx, stateIds)),
  };

  /** A loader reading inside the caller's transaction. */
  static within(tx: ManagedTransaction) {
    return {
      eventStates: (eventIds: readonly string[]) => loadEventStates(tx, eventIds),
      states: (stateIds: readonly string[]) => loadStates(tx, stateIds),
    };
  }

  /** The summary of the state after each event, for `server`, in one query (the order of `eventIds`). */
  summaries(eventIds: readonly string[], server: string): Promise<StateSummaryRow[]> {
    return readTx(this.graph, (tx) => rows<StateSummaryRow & Record<string, unknown>>(tx, QUERIES['state-summaries'], { event_ids: eventIds, server }));
  }

  summariesDbHits(eventIds: readonly string[], server: string): Promise<number> {
    return readTx(this.graph, (tx) => profileDbHits(tx, QUERIES['state-summaries'], { event_ids: eventIds, server }));
  }

  /** What a room takes in the graph (room-storage.cypher). */
  async storage(roomId: string): Promise<Record<'events' | 'states' | 'snapshots' | 'state_entries' | 'prev_event' | 'auth_event' | 'in_room' | 'delta_of', number>> {
    const [row] = await readTx(this.graph, (tx) => rows<Record<string, number>>(tx, QUERIES['room-storage'], { room_id: roomId }));
    return row as never;
  }

  roomStateEvents(roomId: string) {
    return readTx(this.graph, (tx) => loadRoomStateEvents(tx, roomId));
  }

  /** The stored state events among `eventIds` (state-events-load.cypher). */
  stateEvents(eventIds: readonly string[]): Promise<{ room_id: string; pdu: string; rejected_reason: string | null }[]> {
    if (eventIds.length === 0) return Promise.resolve([]);
    return readTx(this.graph, (tx) => rows(tx, QUERIES['state-events-load'], { event_ids: eventIds }));
  }

  pendingPage(roomId: string, after: { depth: number; event_id: string }, limit: number) {
    return readTx(this.graph, (tx) => loadPending(tx, roomId, after, limit));
  }

  /** Sets list properties of stored states (states-set-lists.cypher), for the bulk import. */
  setLists(rows: readonly { state_id: string; lists: StateLists }[]): Promise<void> {
    const converted = rows.map(({ state_id, lists }) => ({ state_id, lists: withIntegerMembers(lists) }));
    return writeTx(this.graph, async (tx) => void (await tx.run(QUERIES['states-set-lists'], { states: converted })));
  }

  save(roomId: string, states: readonly RoomState[], events: readonly EventStateRow[]): Promise<void> {
    if (states.length === 0 && events.length === 0) return Promise.resolve();
    return writeTx(this.graph, (tx) => saveEventStates(tx, roomId, states, events));
  }

  /**
   * Under the room's lock: reads its forward extremities and lets `resolve` turn their states into the current
   * state. Extremities it soft-fails are marked, and the extremities are read again (a soft-failed event's parents
   * may be extremities now); then the room is pointed at its current state.
   */
  async settleCurrentState(
    roomId: string,
    resolve: (tx: ManagedTransaction, extremities: Extremity[]) => Promise<CurrentState>,
  ): Promise<CurrentState | undefined> {
    // The work may run again if the transaction is retried: it keeps nothing between attempts.
    return writeTx(this.graph, async (tx) => {
      const softFailed: { event_id: string; reason: string }[] = [];
      for (;;) {
        const extremities = await lockRoomExtremities(tx, roomId);
        if (extremities.length === 0) return undefined;
        const current = await resolve(tx, extremities);
        if (current.softFailed.length > 0) {
          await tx.run(QUERIES['events-mark-soft-failed'], { events: current.softFailed });
          softFailed.push(...current.softFailed);
          continue;
        }
        await saveEventStates(tx, roomId, current.states, []);
        await saveCurrentState(tx, roomId, current.state.state_id);
        return { ...current, softFailed };
      }
    });
  }
}
