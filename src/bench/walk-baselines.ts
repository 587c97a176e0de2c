/**
 * The walk benchmark's baselines, run on the same Neo4j, rooms and requests as the walk (cypher/walk.cypher):
 * - synapseWalk: Synapse's access pattern (_get_missing_events in synapse/storage/databases/main/event_federation.py):
 *   inside one transaction, one query per event of each breadth-first level for its prev events, the walking done in
 *   the application, then one query for the events found (get_events_as_list).
 * - roundTripFloor: `RETURN 1` through the same driver and session settings as the walk (an auto-commit read, as
 *   EventStore.walk sends it).
 * - memoryWalk: the same walk over adjacency maps of the room, loaded once into this process; no I/O at all.
 * Both walking baselines apply walk.cypher's rules, which Synapse does not all have (it ignores min_depth and the
 * room of a prev event, cuts the last level in set order and returns latest events found as prev events of other
 * latest events): an event is walked past and may be returned only if it is an imported event of the room, not in
 * earliest_events and not below min_depth; latest_events are never returned; the last level is cut by greater
 * depth, then smaller event_id; rejected events are walked through but not returned; the answer is oldest first.
 * So they return exactly the walk's events and the work compared is the same work (test/integration/
 * walk-baselines.test.ts checks it). The Synapse baseline makes as many queries as Synapse would: one per event of
 * each level it expands, including all of the level that reaches the limit, plus the final fetch.
 */
import neo4j from 'neo4j-driver';
import type { MissingEventsRequest } from '../core/missing-events-request';
import { loadCypher } from '../store/cypher-files';
import { type Graph, plain, readOnce, readTx, rows } from '../store/neo4j';

const QUERIES = loadCypher(['bench-synapse-prev-events', 'bench-synapse-events', 'return-1', 'bench-room-dag']);

/** What walk.cypher's rules need of an event. */
export interface Walkable {
  readonly event_id: string;
  readonly room_id: string | null;
  readonly depth: number | null;
  readonly placeholder: boolean;
}

/** walk.cypher's rule for an event to be walked past (and so possibly returned), or to start the walk. */
export function walkRule(request: MissingEventsRequest): (event: Walkable) => boolean {
  const earliest = new Set(request.earliest_events);
  return (event) =>
    event.room_id === request.room_id && !event.placeholder && event.depth !== null && event.depth >= request.min_depth &&
    !earliest.has(event.event_id);
}

/** One breadth-first step: the walkable events of `prevLists` not seen before, marked seen. */
export function nextLevel<E extends Walkable>(prevLists: Iterable<readonly E[]>, seen: Set<string>, walkable: (event: E) => boolean): E[] {
  const level: E[] = [];
  for (const prevs of prevLists) {
    for (const prev of prevs) {
      if (seen.has(prev.event_id) || !walkable(prev)) continue;
      seen.add(prev.event_id);
      level.push(prev);
    }
  }
  return level;
}

/** The first `limit` events found, by level, then greater depth, then smaller event_id (walk.cypher's cut). */
export function cutLevels<E extends Walkable>(found: readonly { event: E; level: number }[], limit: number): E[] {
  return [...found]
    .sort((a, b) => a.level - b.level || b.event.depth! - a.event.depth! || compare(a.event.event_id, b.event.event_id))
    .slice(0, limit)
    .map(({ event }) => event);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether the walk goes on to another level, as walk.cypher's reduce() decides. */
function goesOn(level: number, frontier: number, found: number, limit: number): boolean {
  return frontier > 0 && found < limit && level <= limit;
}

// ---- Synapse's access pattern ----

interface EdgeRow extends Record<string, unknown> {
  room_id: string | null;
  depth: number | null;
  placeholder: boolean;
  prev_events: Walkable[];
}

export interface SynapseAnswer {
  /** The PDUs found, oldest first, as EventStore.walk returns them. */
  readonly pdus: string[];
  /** The queries sent (each one round trip), besides the transaction's BEGIN and COMMIT. */
  readonly queries: number;
}

export async function synapseWalk(graph: Graph, request: MissingEventsRequest): Promise<SynapseAnswer> {
  return readTx(graph, async (tx) => {
    let queries = 0;
    const edges = async (eventId: string): Promise<EdgeRow | undefined> => {
      queries += 1;
      const [row] = await rows<EdgeRow>(tx, QUERIES['bench-synapse-prev-events'], { event_id: eventId });
      return row;
    };
    const walkable = walkRule(request);
    // Synapse's first level asks for the prev events of each latest event; the same row says whether it may start.
    const starts: { event_id: string; prev_events: Walkable[] }[] = [];
    for (const eventId of new Set(request.latest_events)) {
      const row = await edges(eventId);
      if (row !== undefined && walkable({ ...row, event_id: eventId })) starts.push({ event_id: eventId, prev_events: row.prev_events });
    }
    const seen = new Set(starts.map((start) => start.event_id));
    let prevLists = starts.map((start) => start.prev_events);
    const found: { event: Walkable; level: number }[] = [];
    for (let level = 1; goesOn(level, prevLists.length, found.length, request.limit); level++) {
      const frontier = nextLevel(prevLists, seen, walkable);
      for (const event of frontier) found.push({ event, level });
      prevLists = [];
      if (!goesOn(level + 1, frontier.length, found.length, request.limit)) break;
      for (const event of frontier) prevLists.push((await edges(event.event_id))?.prev_events ?? []);
    }
    const kept = cutLevels(found, request.limit).map((event) => event.event_id);
    if (kept.length === 0) return { pdus: [], queries };
    queries += 1;
    const events = await rows<{ event_id: string; pdu: string }>(tx, QUERIES['bench-synapse-events'], { event_ids: kept });
    return { pdus: events.map((event) => event.pdu), queries };
  });
}

// ---- The round-trip floor ----

/** `RETURN 1` sent as EventStore.walk sends the walk: one auto-commit read in its own session. */
export async function roundTripFloor(graph: Graph): Promise<void> {
  await readOnce(graph, QUERIES['return-1'], {});
}

// ---- The in-memory walk ----

/** An event of a room in memory, with its prev events (those of the room) by reference. */
export interface MemoryEvent extends Walkable {
  readonly origin_server_ts: number;
  readonly rejected: boolean;
  readonly prevs: MemoryEvent[];
}

export interface RoomAdjacency {
  readonly room_id: string;
  readonly events: ReadonlyMap<string, MemoryEvent>;
  /** Events of the room that are not placeholders. */
  readonly stored: number;
}

/** A row of cypher/bench-room-dag.cypher, integers as numbers. */
export interface DagRow {
  readonly event_id: string;
  readonly depth: number | null;
  readonly origin_server_ts: number | null;
  readonly placeholder: boolean;
  readonly rejected: boolean;
  readonly prev_events: readonly string[];
}

/** Adjacency maps from a room's rows: prev events outside the rows (other rooms, unknown events) are left out. */
export function adjacencyFrom(roomId: string, dagRows: Iterable<DagRow>): RoomAdjacency {
  const builder = new AdjacencyBuilder(roomId);
  for (const row of dagRows) builder.add(row);
  return builder.finish();
}

/** Builds adjacency maps row by row, so a large room's rows need not be held all at once. */
class AdjacencyBuilder {
  private readonly events = new Map<string, MemoryEvent>();
  private readonly prevIds: [MemoryEvent, readonly string[]][] = [];
  private stored = 0;

  constructor(private readonly roomId: string) {}

  add(row: DagRow): void {
    const event: MemoryEvent = {
      event_id: row.event_id,
      room_id: this.roomId,
      depth: row.depth,
      origin_server_ts: row.origin_server_ts ?? 0,
      placeholder: row.placeholder,
      rejected: row.rejected,
      prevs: [],
    };
    this.events.set(row.event_id, event);
    this.prevIds.push([event, row.prev_events]);
    if (!row.placeholder) this.stored += 1;
  }

  finish(): RoomAdjacency {
    for (const [event, ids] of this.prevIds) {
      for (const id of ids) {
        const prev = this.events.get(id);
        if (prev !== undefined) event.prevs.push(prev);
      }
    }
    this.prevIds.length = 0;
    return { room_id: this.roomId, events: this.events, stored: this.stored };
  }
}

/** Reads a whole room's DAG once, streamed row by row (a 1M-event room is never held as driver records). */
export async function loadAdjacency(graph: Graph, roomId: string): Promise<RoomAdjacency> {
  const session = graph.driver.session({ database: graph.database, defaultAccessMode: neo4j.session.READ });
  try {
    return await session.executeRead(async (tx) => {
      const builder = new AdjacencyBuilder(roomId);
      for await (const record of tx.run(QUERIES['bench-room-dag'], { room_id: roomId })) builder.add(plain(record.toObject()) as DagRow);
      return builder.finish();
    });
  } finally {
    await session.close();
  }
}

/** The walk over adjacency maps: the IDs of the events walk.cypher returns, in its order. */
export function memoryWalk(room: RoomAdjacency, request: MissingEventsRequest): string[] {
  const walkable = walkRule(request);
  const starts: MemoryEvent[] = [];
  for (const eventId of new Set(request.latest_events)) {
    const event = room.events.get(eventId);
    if (event !== undefined && walkable(event)) starts.push(event);
  }
  const seen = new Set(starts.map((event) => event.event_id));
  let frontier = starts;
  const found: { event: MemoryEvent; level: number }[] = [];
  for (let level = 1; goesOn(level, frontier.length, found.length, request.limit); level++) {
    frontier = nextLevel(frontier.map((event) => event.prevs), seen, walkable);
    for (const event of frontier) found.push({ event, level });
  }
  return cutLevels(found, request.limit)
    .filter((event) => !event.rejected)
    .sort((a, b) => a.depth! - b.depth! || a.origin_server_ts - b.origin_server_ts || compare(a.event_id, b.event_id))
    .map((event) => event.event_id);
}
