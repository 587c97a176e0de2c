/**
 * The walk part of `npm run bench` (issue "Performance"): on rooms already imported, the walk (EventStore.walk)
 * for each limit over the same request shapes (walk-shapes.ts), beside its baselines (walk-baselines.ts) on the
 * same Neo4j, the same requests and in the same run, interleaved request by request so a noisy moment hits all of
 * them alike. Every answer of a baseline is checked against the walk's first; a difference is counted as a mismatch.
 * The figures are a plain JSON-able object; formatWalkTable prints them with the targets met or missed.
 */
import { computeEventId } from '../core/event-hashes';
import type { MissingEventsRequest } from '../core/missing-events-request';
import { getRoomVersion } from '../core/room-versions';
import { loadCypher } from '../store/cypher-files';
import { EventStore, walkBatchParameters } from '../store/event-store';
import { type Graph, profileDbHits, readTx } from '../store/neo4j';
import { loadAdjacency, memoryWalk, roundTripFloor, synapseWalk, type RoomAdjacency } from './walk-baselines';
import { graphRoomTop, requestShapes } from './walk-shapes';

export { formatWalkTable } from './walk-table';

export interface BenchRoom {
  readonly label: string;
  readonly roomId: string;
}

export interface WalkBenchOptions {
  readonly limits: readonly number[];
  /** Request shapes per room (the same shapes for every limit). */
  readonly shapes: number;
  /** Timed passes over the shapes, after one untimed pass that checks the answers (default 2). */
  readonly runs?: number;
}

/** Milliseconds. */
export interface Timing {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

export interface WalkRow {
  readonly limit: number;
  /** Mean events the walk returned per request. */
  readonly returned: number;
  /** Mean database hits of the walk per request (PROFILE). */
  readonly dbHits: number;
  readonly walk: Timing;
  /** Synapse's per-event-per-level walk; `queries`: mean queries per request. */
  readonly synapse: Timing & { readonly queries: number };
  readonly floor: Timing;
  readonly memory: Timing;
  readonly ratios: {
    /** synapse p50 / walk p50: how many times faster the walk is. */
    readonly synapseToWalk: number;
    /** walk p50 / RETURN 1 p50. */
    readonly walkToFloor: number;
    /** walk p50 / in-memory p50. */
    readonly walkToMemory: number;
    /** walk p50 / the first room's walk p50 at this limit; null for the first room. */
    readonly p50ToBase: number | null;
    /** db hits / the first room's db hits at this limit; null for the first room. */
    readonly dbHitsToBase: number | null;
  };
  /** Requests for which a baseline's answer differs from the walk's (0 when the comparison is honest). */
  readonly mismatches: number;
}

export interface WalkRoomFigures {
  readonly label: string;
  readonly roomId: string;
  /** Stored events of the room (placeholders not counted). */
  readonly events: number;
  /** What the requests look like: mean earliest_events, and how many carry a min_depth. */
  readonly shapes: { readonly count: number; readonly meanEarliest: number; readonly withMinDepth: number };
  readonly rows: readonly WalkRow[];
}

export interface WalkTarget {
  readonly kind: 'synapse' | 'floor' | 'flat';
  readonly room: string;
  readonly limit: number;
  readonly value: number;
  readonly bound: number;
  readonly met: boolean;
}

export interface WalkFigures {
  readonly shapes: number;
  readonly runs: number;
  readonly limits: readonly number[];
  /** The room every other is compared with (the first given). */
  readonly base: string;
  readonly rooms: readonly WalkRoomFigures[];
  readonly targets: readonly WalkTarget[];
}

export async function benchWalks(graph: Graph, rooms: readonly BenchRoom[], options: WalkBenchOptions): Promise<WalkFigures> {
  const runs = options.runs ?? 2;
  const store = new EventStore(graph);
  const measured: WalkRoomFigures[] = [];
  for (const room of rooms) {
    const adjacency = await loadAdjacency(graph, room.roomId);
    const version = (await store.roomVersions([room.roomId])).get(room.roomId);
    if (version === undefined || adjacency.stored === 0) throw new Error(`room ${room.roomId} (${room.label}) is not stored`);
    const shapes = await requestShapes(graphRoomTop(graph), room.roomId, { count: options.shapes, limit: 1, seed: room.roomId });
    const base = measured[0];
    const rows: WalkRow[] = [];
    for (const limit of options.limits) {
      const requests = shapes.map((shape) => ({ ...shape, limit }));
      const row = await benchLimit(graph, store, adjacency, version, requests, runs);
      const baseRow = base?.rows.find((r) => r.limit === limit);
      rows.push({
        ...row,
        ratios: {
          ...row.ratios,
          p50ToBase: baseRow === undefined ? null : row.walk.p50 / baseRow.walk.p50,
          dbHitsToBase: baseRow === undefined ? null : row.dbHits / baseRow.dbHits,
        },
      });
    }
    measured.push({
      label: room.label,
      roomId: room.roomId,
      events: adjacency.stored,
      shapes: {
        count: shapes.length,
        meanEarliest: mean(shapes.map((shape) => shape.earliest_events.length)),
        withMinDepth: shapes.filter((shape) => shape.min_depth > 0).length,
      },
      rows,
    });
  }
  return {
    shapes: options.shapes,
    runs,
    limits: [...options.limits],
    base: measured[0]?.label ?? '',
    rooms: measured,
    targets: targetsOf(measured),
  };
}

async function benchLimit(
  graph: Graph,
  store: EventStore,
  adjacency: RoomAdjacency,
  roomVersion: string,
  requests: readonly MissingEventsRequest[],
  runs: number,
): Promise<WalkRow> {
  const version = getRoomVersion(roomVersion);
  if (version === undefined) throw new Error(`unknown room version ${roomVersion}`);
  const idOf = (pdu: string) => computeEventId(JSON.parse(pdu) as Record<string, unknown>, version)!;
  // The untimed pass: answers checked, the caches and Neo4j's query plans warmed.
  let mismatches = 0;
  let returned = 0;
  let queries = 0;
  let dbHits = 0;
  for (const request of requests) {
    const walked = await walkPdus(store, request);
    const synapse = await synapseWalk(graph, request);
    const memory = memoryWalk(adjacency, request);
    await roundTripFloor(graph);
    if (!sameList(synapse.pdus, walked) || !sameList(memory, walked.map(idOf))) mismatches += 1;
    returned += walked.length;
    queries += synapse.queries;
    dbHits += await walkDbHits(store, graph, request);
  }
  const methods: (readonly [string, (request: MissingEventsRequest) => Promise<unknown> | unknown])[] = [
    ['walk', (request) => walkPdus(store, request)],
    ['synapse', (request) => synapseWalk(graph, request)],
    ['floor', () => roundTripFloor(graph)],
    ['memory', (request) => memoryWalk(adjacency, request)],
  ];
  const times = new Map(methods.map(([name]) => [name, [] as number[]]));
  for (let run = 0; run < runs; run++) {
    for (const [i, request] of requests.entries()) {
      // Each request starts with a different method, so none always runs right after another.
      for (let k = 0; k < methods.length; k++) {
        const [name, method] = methods[(i + run + k) % methods.length]!;
        const started = performance.now();
        await method(request);
        times.get(name)!.push(performance.now() - started);
      }
    }
  }
  const walk = timing(times.get('walk')!);
  const synapse = timing(times.get('synapse')!);
  const floor = timing(times.get('floor')!);
  const memory = timing(times.get('memory')!);
  return {
    limit: requests[0]?.limit ?? 0,
    returned: returned / Math.max(requests.length, 1),
    dbHits: dbHits / Math.max(requests.length, 1),
    walk,
    synapse: { ...synapse, queries: queries / Math.max(requests.length, 1) },
    floor,
    memory,
    ratios: {
      synapseToWalk: synapse.p50 / walk.p50,
      walkToFloor: walk.p50 / floor.p50,
      walkToMemory: walk.p50 / memory.p50,
      p50ToBase: null,
      dbHitsToBase: null,
    },
    mismatches,
  };
}

/** The walk's PDUs through EventStore.walk, whether it gives PDU strings or events carrying `pdu`. */
async function walkPdus(store: EventStore, request: MissingEventsRequest): Promise<string[]> {
  const events: readonly unknown[] = await store.walk(request);
  return events.map((event) => (typeof event === 'string' ? event : String((event as { pdu: unknown }).pdu)));
}

/** The walk's database hits: the store's own profiling when it has it, else PROFILE of walk.cypher. */
async function walkDbHits(store: EventStore, graph: Graph, request: MissingEventsRequest): Promise<number> {
  const profiling = store as unknown as Partial<Record<'profileWalk' | 'walkDbHits', (request: MissingEventsRequest) => Promise<unknown>>>;
  const own = profiling.profileWalk ?? profiling.walkDbHits;
  if (own !== undefined) {
    const result = await own.call(store, request);
    return typeof result === 'number' ? result : Number((result as { dbHits: unknown }).dbHits);
  }
  const { walk } = loadCypher(['walk']);
  return readTx(graph, (tx) => profileDbHits(tx, walk, walkBatchParameters([{ request, origin: null }])));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function timing(values: readonly number[]): Timing {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), mean: mean(sorted) };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * The targets: the walk at least 3x faster than Synapse's per-level walk (the generated rooms are forked)
 * and its p50 within 3x of `RETURN 1`, in every room at every limit; and flat cost: p50 within 1.3x of the first
 * room's for a room up to ~10x its size (100k against 10k), within 1.5x for one 50x or more (1M against 10k).
 */
export function targetsOf(rooms: readonly WalkRoomFigures[]): WalkTarget[] {
  const targets: WalkTarget[] = [];
  const base = rooms[0];
  for (const room of rooms) {
    for (const row of room.rows) {
      const at = { room: room.label, limit: row.limit };
      targets.push({ kind: 'synapse', ...at, value: row.ratios.synapseToWalk, bound: 3, met: row.ratios.synapseToWalk >= 3 });
      targets.push({ kind: 'floor', ...at, value: row.ratios.walkToFloor, bound: 3, met: row.ratios.walkToFloor <= 3 });
      if (room !== base && base !== undefined && row.ratios.p50ToBase !== null) {
        const bound = room.events / base.events >= 50 ? 1.5 : 1.3;
        targets.push({ kind: 'flat', ...at, value: row.ratios.p50ToBase, bound, met: row.ratios.p50ToBase <= bound });
      }
    }
  }
  return targets;
}
