/**
 * The room graph's events: batched import writes, the current state they imply, and the walk. Queries come from
 * cypher/*.cypher; every value crossing into Neo4j is converted here.
 */
import { availableParallelism } from 'node:os';
import type { MissingEventsRequest } from '../core/missing-events-request';
import type { StoredEvent } from '../core/pdu';
import { eventKind } from '../core/event-kind';
import type { RoomState } from '../core/room-state';
import type { EventVisibility } from '../core/visibility';
import type { RoomAccessFacts } from '../core/room-access';
import { isObject } from '../core/json';
import { prunedPdu } from '../core/redaction';
import { getRoomVersion, type RoomVersion } from '../core/room-versions';
import type { ManagedTransaction } from 'neo4j-driver';
import { markPending, saveEventStates, updateExtremities, type EventStateRow } from './state-store';
import { loadCypher } from './cypher-files';
import { type Graph, int, profileDbHits, readOnce, readTx, rows, writeTx } from './neo4j';
import { WalkBatching, type WalkBatchingMetrics } from './walk-batching';
import { walkKey, WalkSharing, type WalkSharingMetrics } from './walk-sharing';

const QUERIES = loadCypher([
  'import-events',
  'import-edges',
  'rooms-save',
  'room-versions-load',
  'walk',
  'room-count',
  'room-latest-event',
  'room-import-state',
]);

export type ImportOutcome = 'stored' | 'unchanged' | 'conflict';

/** More to write in an import batch's transaction (a follower's position), committed with the batch or not at all. */
export type AlsoWrite = (tx: ManagedTransaction) => Promise<void>;

/** States computed for one room, to store with a batch of events. */
export interface StateWrite {
  readonly room_id: string;
  readonly states: readonly RoomState[];
  readonly events: readonly EventStateRow[];
}

/** What a get_missing_events request reads: the room-access facts and the walk's events. */
export interface MissingEventsAnswer {
  /** Undefined for an unknown room. */
  readonly room: RoomAccessFacts | undefined;
  readonly events: readonly WalkedEvent[];
  /** The latest_events that are not an event of this room held whole (unknown, another room's, a placeholder). */
  readonly latestNotHeld: readonly string[];
  /** Whether a follower stored events of the room that its current state (room access) does not reflect yet. */
  readonly roomSettling: boolean;
}

/** An event the walk found: its stored PDU and, for `origin`, its history visibility facts. */
export interface WalkedEvent extends EventVisibility {
  readonly pdu: string;
}

/** The walk takes the validated request as it is. */
export type WalkRequest = MissingEventsRequest;

/** A walk to run: the request, and the server asking first (null: no room-access check, e.g. analysts). */
export interface WalkAsk {
  readonly request: WalkRequest;
  readonly origin: string | null;
}

/** Walks in one query at most: bounds what one query holds (each walk is bounded by its limit). */
const WALKS_PER_QUERY = 16;

export class EventStore {
  private readonly walks: WalkSharing<SharedWalk>;
  private readonly batches: WalkBatching<WalkAsk, WalkRow | undefined>;

  constructor(readonly graph: Graph, walkMetrics?: WalkSharingMetrics & WalkBatchingMetrics) {
    this.walks = new WalkSharing(walkMetrics);
    // As many walk queries at once as the driver has connections; the walks that wait for one go out together.
    const inFlight = graph.maxConnections ?? 2 * availableParallelism();
    this.batches = new WalkBatching((walks) => this.runWalks(walks), inFlight, WALKS_PER_QUERY, walkMetrics);
    // The walk with parameters of the types requests send, for a room that does not exist: it plans the walk.
    const warmUp = { room_id: '!warm-up:invalid', latest_events: ['$warm-up'], earliest_events: [], min_depth: 0, limit: 1 };
    graph.availability?.addWarmUp(QUERIES.walk, walkBatchParameters([{ request: warmUp, origin: 'warm-up.invalid' }]));
  }

  /** The stored room version of each room that is known. */
  async roomVersions(roomIds: readonly string[]): Promise<Map<string, string>> {
    if (roomIds.length === 0) return new Map();
    const found = await readTx(this.graph, (tx) =>
      rows<{ room_id: string; room_version: string }>(tx, QUERIES['room-versions-load'], { room_ids: roomIds }),
    );
    return new Map(found.map((row) => [row.room_id, row.room_version]));
  }

  /** Creates rooms not stored yet; returns each room's version as stored (an existing room keeps its own). */
  async saveRooms(rooms: readonly { room_id: string; room_version: string }[]): Promise<Map<string, string>> {
    const saved = await writeTx(this.graph, (tx) =>
      rows<{ room_id: string; room_version: string }>(tx, QUERIES['rooms-save'], { rooms }),
    );
    return new Map(saved.map((row) => [row.room_id, row.room_version]));
  }

  /**
   * Stores a batch of events (one per event ID) with the states the importer computed (for these events or for
   * events of earlier batches that were waiting for them), in one transaction; `pending` events get no state yet.
   */
  async importEvents(
    events: readonly StoredEvent[],
    work: readonly StateWrite[] = [],
    pending: readonly string[] = [],
    alsoWrite?: AlsoWrite,
  ): Promise<Map<string, ImportOutcome>> {
    // The states of this batch's own events go in with the events; the others (events of earlier batches or imports
    // that waited for these) are recorded by saveEventStates.
    const ids = new Set(events.map((event) => event.event_id));
    const ownStates = new Map<string, EventStateRow>();
    for (const { events: stateRows } of work) for (const row of stateRows) if (ids.has(row.event_id)) ownStates.set(row.event_id, row);
    return writeTx(this.graph, async (tx) => {
      const written = await rows<{ event_id: string; outcome: ImportOutcome }>(tx, QUERIES['import-events'], {
        events: events.map((event) => {
          const state = ownStates.get(event.event_id);
          return {
            event_id: event.event_id, room_id: event.room_id, type: event.type, state_key: event.state_key,
            sender: event.sender, pdu: event.pdu, content_hash_ok: event.content_hash_ok,
            kind: eventKind(event.type, event.state_key),
            origin_server_ts: int(event.origin_server_ts),
            depth: int(event.depth),
            state_before: state?.state_before ?? null,
            state_after: state?.state_after ?? null,
            rejected_reason: state?.rejected_reason ?? null,
          };
        }),
      });
      const outcomes = new Map(written.map((row) => [row.event_id, row.outcome]));
      const stored = events.filter((event) => outcomes.get(event.event_id) === 'stored');
      if (stored.length > 0) {
        await tx.run(QUERIES['import-edges'], {
          events: stored.map(({ event_id, room_id, prev_events, auth_events }) => ({ event_id, room_id, prev_events, auth_events })),
        });
      }
      for (const { room_id, states, events: stateRows } of work) {
        await saveEventStates(tx, room_id, states, stateRows.filter((row) => !ownStates.has(row.event_id)));
      }
      // Events given a state here, and stored events whose edges came just now (their state may have come with a
      // batch committed first), take the label Extremity from their prev events.
      await updateExtremities(tx, [...new Set([...ownStates.keys(), ...stored.map((event) => event.event_id)])]);
      await markPending(tx, pending);
      await alsoWrite?.(tx);
      return outcomes;
    });
  }

  /** The walk's PDUs, as stored, whoever asks (no room-access or visibility facts). */
  async walk(request: WalkRequest): Promise<string[]> {
    return (await this.missingEvents(request, null)).events.map((event) => event.pdu);
  }

  /**
   * One round trip for a get_missing_events request: the room-access facts for `origin` and the walk's events,
   * each with what history visibility needs, and which latest_events are not held (no room for an unknown room).
   * The walk is empty when `origin` has no joined member and the room is not world_readable.
   * Requests asking the same walk at once share one query (src/store/walk-sharing.ts); each origin's facts are
   * then read from the shared rows, so every origin gets what it would get alone.
   */
  async missingEvents(request: WalkRequest, origin: string | null): Promise<MissingEventsAnswer> {
    const shared = await this.walks.run(walkKey(request), () => this.sharedWalk(request, origin));
    const { roomSettling } = shared;
    if (shared.room === undefined) return { room: undefined, events: [], latestNotHeld: shared.latestNotHeld, roomSettling };
    const room = { ...shared.room, origin_joined: origin !== null && shared.joinedServers.has(origin) };
    const mayWalk = origin === null || room.origin_joined || room.history_visibility === 'world_readable';
    if (!mayWalk) return { room, events: [], latestNotHeld: shared.latestNotHeld, roomSettling };
    // The walk was skipped for the first caller, which may not read the room; this one may: it walks on its own.
    const walked = shared.walked ? shared : await this.sharedWalk(request, origin);
    return { room, events: walked.events.map((event) => event.forOrigin(origin)), latestNotHeld: walked.latestNotHeld, roomSettling };
  }

  /** The walk's rows, with nothing in them that depends on who asks (only whether it ran, by `origin`'s rights). */
  private async sharedWalk(request: WalkRequest, origin: string | null): Promise<SharedWalk> {
    const row = await this.batches.run({ request, origin });
    if (row === undefined || row.room_version === null) {
      return {
        room: undefined, joinedServers: new Set(), walked: false, events: [], latestNotHeld: row?.latest_not_held ?? request.latest_events,
        roomSettling: row?.room_settling === true,
      };
    }
    // A redacted event is read pruned, as Synapse's event store reads it: the ACL in force, and each event walked.
    const version = getRoomVersion(row.room_version)!;
    const states = new Map(row.states.map((state) => [state.state_id, stateVisibility(state)]));
    return {
      room: {
        room_id: request.room_id,
        room_version: row.room_version,
        create_sender: row.create_sender,
        create_content: contentOf(row.create_event_id, row.create_pdu),
        acl_content: contentOf(row.acl_event_id, row.acl_pdu, row.acl_redacted === true ? version : undefined),
        history_visibility: row.history_visibility,
      },
      joinedServers: new Set(row.joined_servers ?? []),
      walked: row.walked === true,
      events: row.events.map(({ pdu, redacted, state_id }) => {
        const served = redacted ? prunedPdu(pdu, version) : pdu;
        const state = state_id === null ? undefined : states.get(state_id);
        return { forOrigin: (origin: string | null) => ({ pdu: served, ...visibilityFor(state, origin) }) };
      }),
      latestNotHeld: row.latest_not_held,
      roomSettling: row.room_settling === true,
    };
  }

  /** One query for several walks: each walk's row, in the order asked. */
  private async runWalks(walks: readonly WalkAsk[]): Promise<(WalkRow | undefined)[]> {
    const found = await readOnce<WalkRow & { index: number }>(this.graph, QUERIES.walk, walkBatchParameters(walks));
    const rows: (WalkRow | undefined)[] = walks.map(() => undefined);
    for (const row of found) rows[row.index] = row;
    return rows;
  }

  /** The room's newest event (greatest depth), or undefined for an unknown room. */
  async latestEvent(roomId: string): Promise<{ event_id: string; depth: number } | undefined> {
    const [row] = await readTx(this.graph, (tx) =>
      rows<{ event_id: string; depth: number }>(tx, QUERIES['room-latest-event'], { room_id: roomId }),
    );
    return row;
  }

  /** The database hits of one walk, from Neo4j's PROFILE: the work the query did, whatever the machine's load. */
  async walkDbHits(request: WalkRequest, origin: string | null = null): Promise<number> {
    return readTx(this.graph, (tx) => profileDbHits(tx, QUERIES.walk, walkBatchParameters([{ request, origin }])));
  }

  /** How far a room's import got: its stored events and whether its current state is settled; undefined when unknown. */
  async roomImportState(roomId: string): Promise<{ events: number; settled: boolean } | undefined> {
    const [row] = await readTx(this.graph, (tx) =>
      rows<{ events: number; settled: boolean }>(tx, QUERIES['room-import-state'], { room_id: roomId }),
    );
    return row;
  }

  async roomCount(): Promise<number> {
    const [row] = await readTx(this.graph, (tx) => rows<{ rooms: number }>(tx, QUERIES['room-count'], {}));
    return row?.rooms ?? 0;
  }
}

interface WalkStateRow {
  state_id: string;
  history_visibility: string | null;
  joined_servers: string[];
  invited_servers: string[];
}

interface WalkRow extends Record<string, unknown> {
  room_version: string | null;
  create_sender: string | null;
  create_event_id: string | null;
  create_pdu: string | null;
  acl_event_id: string | null;
  acl_pdu: string | null;
  acl_redacted: boolean | null;
  history_visibility: string | null;
  joined_servers: string[] | null;
  walked: boolean | null;
  events: { pdu: string; redacted: boolean; state_id: string | null }[];
  states: WalkStateRow[];
  latest_not_held: string[];
  room_settling: boolean;
}

/** A walk's answer before an origin is applied: what every request asking this walk shares. */
interface SharedWalk {
  readonly room: Omit<RoomAccessFacts, 'origin_joined'> | undefined;
  /** The servers with a joined member in the room's current state. */
  readonly joinedServers: ReadonlySet<string>;
  readonly walked: boolean;
  readonly events: readonly { forOrigin(origin: string | null): WalkedEvent }[];
  readonly latestNotHeld: readonly string[];
  readonly roomSettling: boolean;
}

interface StateVisibility {
  readonly history_visibility: string | null;
  readonly joined: ReadonlySet<string>;
  readonly invited: ReadonlySet<string>;
}

function stateVisibility(state: WalkStateRow): StateVisibility {
  return { history_visibility: state.history_visibility, joined: new Set(state.joined_servers), invited: new Set(state.invited_servers) };
}

/** What history visibility needs of an event for `origin`, from the summary of the state after it (if known). */
function visibilityFor(state: StateVisibility | undefined, origin: string | null): EventVisibility {
  if (state === undefined) return { state_known: false, history_visibility: null, server_joined: false, server_invited: false };
  return {
    state_known: true,
    history_visibility: state.history_visibility,
    server_joined: origin !== null && state.joined.has(origin),
    server_invited: origin !== null && state.invited.has(origin),
  };
}

// Events never change, so the parsed content of a create or ACL event is cached by event ID (and whether it is read
// pruned, which a later redaction changes): a request then parses no JSON for room access. Cleared when full, which
// bounds it without bookkeeping.
const CONTENT_CACHE_SIZE = 10_000;
const contents = new Map<string, unknown>();

/** The event's content; pruned with `redactedIn`'s redaction algorithm when a redaction applies to it. */
function contentOf(eventId: string | null, pdu: string | null, redactedIn?: RoomVersion): unknown {
  if (eventId === null || pdu === null) return null;
  const key = redactedIn === undefined ? eventId : `${eventId} redacted`;
  if (contents.has(key)) return contents.get(key);
  const parsed: unknown = JSON.parse(redactedIn === undefined ? pdu : prunedPdu(pdu, redactedIn));
  const content = isObject(parsed) ? parsed.content : null;
  if (contents.size >= CONTENT_CACHE_SIZE) contents.clear();
  contents.set(key, content);
  return content;
}

/** cypher/walk.cypher's parameters for these walks: each walk's row carries its index in the list. */
export function walkBatchParameters(walks: readonly WalkAsk[]) {
  return {
    requests: walks.map(({ request, origin }, index) => ({
      index,
      origin,
      room_id: request.room_id,
      latest_events: request.latest_events,
      earliest_events: request.earliest_events,
      min_depth: int(request.min_depth),
      limit: int(request.limit),
    })),
  };
}
