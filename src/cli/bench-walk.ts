/**
 * The walk benchmark of `npm run bench`: the real walk (cypher/walk.cypher, one query) beside three baselines on
 * the same Neo4j, the same rooms and the same requests, in the same run:
 * - synapse: Synapse's access pattern, one query per event of each breadth-first level for its prev events, the
 *   walking done in the application, then one query for the events found (cypher/baseline-*.cypher);
 * - floor: `RETURN 1` through the same driver and session settings, the cost of a round trip;
 * - memory: the same walk over adjacency maps of the room loaded into this process, no Neo4j at all.
 * Both walking baselines apply the walk's own rules (room, placeholders, earliest_events, min_depth, levels, the
 * cut of the last level, rejected events dropped, oldest first), so each answer is compared with the real walk's
 * and a difference is counted as a mismatch: the work compared is the same work.
 */
import { computeEventId } from '../core/event-hashes';
import { getRoomVersion } from '../core/room-versions';
import { loadCypher } from '../store/cypher-files';
import { EventStore, type WalkRequest } from '../store/event-store';
import { type Graph, int, plain, readOnce, readTx, rows } from '../store/neo4j';

const QUERIES = loadCypher([
  'baseline-prev-events',
  'baseline-events',
  'baseline-room-dag',
  'baseline-return-1',
  'baseline-shape-events',
]);

/** What the walk's rules need of an event. */
export interface DagEvent {
  readonly event_id: string;
  readonly room_id: string;
  readonly depth: number | null;
  readonly origin_server_ts: number | null;
  readonly placeholder: boolean;
  readonly rejected: boolean;
}

/**
 * The get_missing_events walk's rules (walk.cypher) over any way of reading prev events, level by level: `prevs`
 * gets a whole frontier and returns each member's prev events. Returns the IDs of the events to send, oldest first.
 */
export async function walkLevels(
  request: WalkRequest,
  starts: readonly DagEvent[],
  prevs: (frontier: readonly DagEvent[]) => Promise<DagEvent[][]>,
  details: (found: readonly DagEvent[]) => Promise<ReadonlyMap<string, DagEvent>>,
): Promise<string[]> {
  const earliest = new Set(request.earliest_events);
  const eligible = (event: DagEvent) =>
    event.room_id === request.room_id && !event.placeholder && event.depth !== null && event.depth >= request.min_depth &&
    !earliest.has(event.event_id);
  let frontier = starts.filter(eligible);
  const seen = new Set(frontier.map((event) => event.event_id));
  const found: { event: DagEvent; level: number }[] = [];
  for (let level = 1; level <= request.limit && found.length < request.limit && frontier.length > 0; level++) {
    const next: DagEvent[] = [];
    for (const list of await prevs(frontier)) {
      for (const prev of list) {
        if (!eligible(prev) || seen.has(prev.event_id)) continue;
        seen.add(prev.event_id);
        next.push(prev);
      }
    }
    for (const event of next) found.push({ event, level });
    frontier = next;
  }
  found.sort((a, b) => a.level - b.level || b.event.depth! - a.event.depth! || compare(a.event.event_id, b.event.event_id));
  const kept = await details(found.slice(0, request.limit).map(({ event }) => event));
  return [...kept.values()]
    .filter((event) => !event.rejected)
    .sort((a, b) => a.depth! - b.depth! || a.origin_server_ts! - b.origin_server_ts! || compare(a.event_id, b.event_id))
    .map((event) => event.event_id);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Synapse's pattern: one auto-commit query per event per level, one for the events found. */
export async function synapseWalk(graph: Graph, request: WalkRequest): Promise<string[]> {
  const starts = await eventsById(graph, request.latest_events);
  return walkLevels(
    request,
    [...starts.values()],
    async (frontier) => {
      const lists: DagEvent[][] = [];
      for (const event of frontier) {
        lists.push((await readOnce<DagRow>(graph, QUERIES['baseline-prev-events'], { event_id: event.event_id })).map(dagEvent));
      }
      return lists;
    },
    async (found) => eventsById(graph, found.map((event) => event.event_id)),
  );
}

async function eventsById(graph: Graph, ids: readonly string[]): Promise<Map<string, DagEvent>> {
  const found = await readOnce<DagRow>(graph, QUERIES['baseline-events'], { event_ids: ids });
  return new Map(found.map((row) => [row.event_id, dagEvent(row)]));
}

type DagRow = Record<string, unknown> & { event_id: string };

function dagEvent(row: DagRow): DagEvent {
  const number = (value: unknown) => (value === null || value === undefined ? null : (plain(value) as number));
  return {
    event_id: row.event_id,
    room_id: row.room_id as string,
    depth: number(row.depth),
    origin_server_ts: number(row.origin_server_ts),
    placeholder: row.placeholder === true,
    rejected: row.rejected === true,
  };
}

/** A room's DAG in memory: each event and its prev events. */
export interface RoomDag {
  readonly events: ReadonlyMap<string, DagEvent>;
  readonly prevs: ReadonlyMap<string, readonly string[]>;
}

export async function loadRoomDag(graph: Graph, roomId: string): Promise<RoomDag> {
  const found = await readTx(graph, (tx) => rows<DagRow & { prev_events: string[] }>(tx, QUERIES['baseline-room-dag'], { room_id: roomId }));
  const events = new Map<string, DagEvent>();
  const prevs = new Map<string, readonly string[]>();
  for (const row of found) {
    events.set(row.event_id, { ...dagEvent(row), room_id: roomId });
    prevs.set(row.event_id, row.prev_events);
  }
  return { events, prevs };
}

/** The walk over adjacency maps: no I/O at all. */
export function memoryWalk(dag: RoomDag, request: WalkRequest): Promise<string[]> {
  const get = (id: string) => dag.events.get(id);
  const starts = request.latest_events.map(get).filter((event): event is DagEvent => event !== undefined);
  return walkLevels(
    request,
    starts,
    async (frontier) => frontier.map((event) => (dag.prevs.get(event.event_id) ?? []).map(get).filter((e): e is DagEvent => e !== undefined)),
    async (found) => new Map(found.map((event) => [event.event_id, event])),
  );
}

/**
 * Requests as a caller sends them: latest = one of the room's newest events; earliest = the room's other forward
 * extremities and a few events the caller already has (none, or about 10 or 40 levels back); every fourth with a
 * min_depth 10 below the latest event. The same list for the same room.
 */
export async function requestShapes(graph: Graph, roomId: string, count: number, limit: number): Promise<WalkRequest[]> {
  const newest = await readOnce<{ event_id: string; depth: unknown; extremity: boolean }>(graph, QUERIES['baseline-shape-events'], { room_id: roomId, count: int(200) });
  const events = newest.map((row) => ({ event_id: row.event_id, depth: plain(row.depth) as number, extremity: row.extremity }));
  const extremities = events.filter((event) => event.extremity).map((event) => event.event_id);
  const shapes: WalkRequest[] = [];
  for (let i = 0; i < count; i++) {
    const latest = events[i % Math.min(events.length, 40)]!;
    // The caller's known events: none (a third of the requests), about 10 or about 40 levels back.
    const back = [0, 10, 40][i % 3]!;
    const known = back === 0 ? [] : events.filter((event) => Math.abs(latest.depth - back - event.depth) <= 3);
    const earliest = [
      ...extremities.filter((id) => id !== latest.event_id),
      ...[0, 1, 2].map((k) => known[(i * 7 + k * 13) % Math.max(known.length, 1)]?.event_id).filter((id): id is string => id !== undefined),
    ];
    shapes.push({
      room_id: roomId,
      latest_events: [latest.event_id],
      earliest_events: [...new Set(earliest)],
      min_depth: i % 4 === 3 ? Math.max(latest.depth - 10, 0) : 0,
      limit,
    });
  }
  return shapes;
}

export interface Timing {
  readonly p50: number;
  readonly p99: number;
}

export interface WalkFigures {
  readonly room: string;
  readonly events: number;
  readonly limit: number;
  readonly shapes: number;
  readonly returned: number;
  readonly dbHits: number;
  readonly walk: Timing;
  readonly synapse: Timing;
  readonly floor: Timing;
  readonly memory: Timing;
  /** Requests whose baseline answers differ from the walk's (0 when the baselines are honest). */
  readonly mismatches: number;
}

/** Times `run` on every shape, `passes` times after one warm-up pass; milliseconds. */
async function time(shapes: readonly WalkRequest[], passes: number, run: (shape: WalkRequest) => Promise<unknown>): Promise<Timing> {
  for (const shape of shapes) await run(shape);
  const times: number[] = [];
  for (let pass = 0; pass < passes; pass++) {
    for (const shape of shapes) {
      const started = performance.now();
      await run(shape);
      times.push(performance.now() - started);
    }
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)]!, p99: times[Math.floor(times.length * 0.99)]! };
}

export async function benchWalk(
  graph: Graph,
  room: { label: string; roomId: string; events: number },
  limits: readonly number[],
  count: number,
): Promise<WalkFigures[]> {
  const store = new EventStore(graph);
  const dag = await loadRoomDag(graph, room.roomId);
  const version = getRoomVersion('10')!;
  const idOf = (pdu: string) => computeEventId(JSON.parse(pdu) as Record<string, unknown>, version)!;
  const figures: WalkFigures[] = [];
  for (const limit of limits) {
    const shapes = await requestShapes(graph, room.roomId, count, limit);
    let mismatches = 0;
    let returned = 0;
    for (const shape of shapes) {
      const expected = (await store.walk(shape)).map(idOf);
      returned += expected.length;
      const [synapse, memory] = [await synapseWalk(graph, shape), await memoryWalk(dag, shape)];
      if (synapse.join() !== expected.join() || memory.join() !== expected.join()) mismatches += 1;
    }
    let hits = 0;
    const profiled = shapes.slice(0, 20);
    for (const shape of profiled) hits += await store.walkDbHits(shape);
    figures.push({
      room: room.label,
      events: room.events,
      limit,
      shapes: shapes.length,
      returned: returned / shapes.length,
      dbHits: hits / profiled.length,
      walk: await time(shapes, 2, (shape) => store.walk(shape)),
      synapse: await time(shapes, 1, (shape) => synapseWalk(graph, shape)),
      floor: await time(shapes, 2, () => readOnce(graph, QUERIES['baseline-return-1'], {})),
      memory: await time(shapes, 2, (shape) => memoryWalk(dag, shape)),
      mismatches,
    });
  }
  return figures;
}

/** The table `npm run bench` prints, with each target met or missed. */
export function formatWalkTable(figures: readonly WalkFigures[]): string {
  const ms = (value: number) => value.toFixed(2).padStart(7);
  const x = (value: number) => `${value.toFixed(2)}x`.padStart(7);
  const lines = [
    'room  limit  events  db hits | walk p50    p99 | synapse p50 (ratio) | RETURN 1 p50 (walk/floor) | memory p50 | mismatches',
  ];
  for (const f of figures) {
    lines.push(
      `${f.room.padEnd(5)} ${String(f.limit).padStart(5)} ${f.returned.toFixed(1).padStart(7)} ${f.dbHits.toFixed(0).padStart(8)} |` +
        ` ${ms(f.walk.p50)} ${ms(f.walk.p99)} | ${ms(f.synapse.p50)} ${x(f.synapse.p50 / f.walk.p50)} |` +
        ` ${ms(f.floor.p50)} ${x(f.walk.p50 / f.floor.p50)}          | ${ms(f.memory.p50)} | ${f.mismatches}`,
    );
  }
  const base = (limit: number) => figures.find((f) => f.limit === limit && f === figures.find((g) => g.limit === limit));
  lines.push('');
  for (const f of figures) {
    const first = base(f.limit)!;
    if (f === first) continue;
    lines.push(`${f.room} / ${first.room} at limit ${f.limit}: p50 ${x(f.walk.p50 / first.walk.p50)}, db hits ${x(f.dbHits / first.dbHits)}`);
  }
  const worst = (check: (f: WalkFigures) => boolean) => (figures.every(check) ? 'met' : 'MISSED');
  lines.push(
    `targets: walk >= 3x faster than synapse: ${worst((f) => f.synapse.p50 / f.walk.p50 >= 3)}; ` +
      `p50 within 3x of RETURN 1: ${worst((f) => f.walk.p50 / f.floor.p50 <= 3)}`,
  );
  return lines.join('\n');
}
