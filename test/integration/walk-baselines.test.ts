/**
 * The walk benchmark's baselines (src/bench/walk-baselines.ts) are honest comparisons: for every request shape the
 * benchmark sends on a generated forked room, and for hand-built edge cases (rejected, placeholder and cross-room
 * events, ties at the last level, odd requests), Synapse's per-event-per-level walk returns exactly the PDUs
 * EventStore.walk returns and the in-memory walk exactly their event IDs, in the same order. benchWalks runs on
 * stored rooms and gives JSON-able figures that formatWalkTable prints with the targets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeEventId } from '../../src/core/event-hashes';
import type { MissingEventsRequest } from '../../src/core/missing-events-request';
import { getRoomVersion } from '../../src/core/room-versions';
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { readKeysFile, keysFilePath } from '../../src/generator/keys-file';
import { writeRoom } from '../../src/generator/write-room';
import { importSources } from '../../src/importer/import-files';
import { EventStore } from '../../src/store/event-store';
import type { Graph } from '../../src/store/neo4j';
import { loadAdjacency, memoryWalk, synapseWalk, type RoomAdjacency } from '../../src/bench/walk-baselines';
import { ancestorsAt, graphRoomTop, requestShapes, TOP_EVENTS, walkShapes } from '../../src/bench/walk-shapes';
import { benchWalks, formatWalkTable } from '../../src/bench/walk-bench';
import { importLines, openTestGraph } from '../helpers/graph';

let graph: Graph;
let store: EventStore;
let dir: string;
const generated: { roomId: string; stored: number }[] = [];

const idOf = (pdu: string) => computeEventId(JSON.parse(pdu) as Record<string, unknown>, getRoomVersion('10')!)!;

beforeAll(async () => {
  graph = await openTestGraph();
  store = new EventStore(graph);
  dir = mkdtempSync(join(tmpdir(), 'walk-baselines-'));
  // Two generated forked rooms (forks of two or three servers that later events merge), written and imported as
  // the benchmark does; the second, smaller, is the benchmark's "base" room in the last test.
  for (const [events, seed] of [[600, 'walk-baselines/forked'], [150, 'walk-baselines/small']] as const) {
    const file = join(dir, `${events}.jsonl`);
    await writeRoom({ events, roomVersion: '10', seed }, file);
    const summary = await importSources(store, [file]);
    expect(summary.rejected + summary.skipped + summary.statePending).toBe(0);
    generated.push({ roomId: readKeysFile(keysFilePath(file)).room_id, stored: summary.stored });
  }
}, 120_000);

afterAll(async () => {
  await graph.driver.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Asks all three, expects the same answer from each, and returns the walk's event IDs. */
async function sameAnswer(adjacency: RoomAdjacency, request: MissingEventsRequest): Promise<string[]> {
  const pdus = await store.walk(request);
  expect((await synapseWalk(graph, request)).pdus).toEqual(pdus);
  const ids = pdus.map(idOf);
  expect(memoryWalk(adjacency, request)).toEqual(ids);
  return ids;
}

describe('the walk benchmark baselines on a generated forked room', () => {
  it.each([10, 20, 100])('return exactly the walk’s events for each of 80 request shapes at limit %i', async (limit) => {
    const { roomId } = generated[0]!;
    const adjacency = await loadAdjacency(graph, roomId);
    const shapes = await requestShapes(graphRoomTop(graph), roomId, { count: 80, limit, seed: 'test' });
    expect(shapes).toHaveLength(80);
    const sizes: number[] = [];
    for (const shape of shapes) sizes.push((await sameAnswer(adjacency, shape)).length);
    // The shapes exercise both ways a walk ends: at the limit, and earlier at earliest_events or min_depth.
    expect(sizes.filter((size) => size === limit).length).toBeGreaterThan(0);
    expect(sizes.filter((size) => size < limit).length).toBeGreaterThan(0);
  });

  it('loads the room into memory whole: every stored event, with its prev events', async () => {
    const { roomId, stored } = generated[0]!;
    const adjacency = await loadAdjacency(graph, roomId);
    expect(adjacency.stored).toBe(stored);
    expect(adjacency.events.size).toBe(stored);
    const edges = [...adjacency.events.values()].reduce((sum, event) => sum + event.prevs.length, 0);
    // A forked room: some events merge two branches or more.
    expect([...adjacency.events.values()].some((event) => event.prevs.length >= 2)).toBe(true);
    expect(edges).toBeGreaterThan(stored - 1);
  });

  it('builds requests as a caller sends them: a recent latest event, the other extremities and known ancestors, every fourth with a min_depth', async () => {
    const { roomId } = generated[0]!;
    const top = await graphRoomTop(graph)(roomId, TOP_EVENTS);
    const byId = new Map(top.map((event) => [event.event_id, event]));
    const extremities = top.filter((event) => event.extremity).map((event) => event.event_id);
    expect(extremities.length).toBeGreaterThan(0);
    const shapes = walkShapes(roomId, top, { count: 20, limit: 20, seed: 'test' });
    expect(walkShapes(roomId, top, { count: 20, limit: 20, seed: 'test' })).toEqual(shapes);
    expect(shapes.map((shape) => shape.min_depth > 0)).toEqual(Array.from({ length: 20 }, (_, i) => i % 4 === 3));
    const recent = new Set(top.slice(0, 50).map((event) => event.event_id));
    shapes.forEach((shape, i) => {
      expect(shape.latest_events).toHaveLength(1);
      const latest = byId.get(shape.latest_events[0]!)!;
      expect(recent.has(latest.event_id)).toBe(true);
      expect(shape.earliest_events).not.toContain(latest.event_id);
      const others = extremities.filter((id) => id !== latest.event_id);
      expect(shape.earliest_events.slice(0, others.length)).toEqual(others);
      // The known events: up to three ancestors at the shape's gap (0, 1, 3, 10, 30 steps in turn).
      const known = shape.earliest_events.slice(others.length);
      const gap = [0, 1, 3, 10, 30][i % 5]!;
      const atGap = gap === 0 ? [] : ancestorsAt(latest, gap, byId);
      expect(known.length).toBe(Math.min(3, atGap.length));
      for (const id of known) expect(atGap).toContain(id);
      // The window read (TOP_EVENTS newest events) reaches 30 steps back from every recent event.
      if (gap !== 0) expect(atGap.length).toBeGreaterThan(0);
      if (shape.min_depth > 0) expect(latest.depth - shape.min_depth).toBeGreaterThanOrEqual(5);
    });
  });
});

describe('the walk benchmark baselines on edge cases', () => {
  const ALICE = '@alice:hs1.test';
  const BOB = '@bob:hs2.test';
  const message = (builder: RoomBuilder, body: string, prev?: readonly BuiltEvent[], sender = ALICE) =>
    builder.add({ type: 'm.room.message', sender, content: { msgtype: 'm.text', body }, ...(prev ? { prev } : {}) });

  it('agree with the walk on rejected, placeholder and cross-room events, ties, duplicates and odd requests', async () => {
    const other = new RoomBuilder('10', 'walk-baselines/other');
    other.create(ALICE);
    const theirs = message(other, 'theirs');
    expect((await importLines(graph, other.events)).problems).toEqual([]);

    const r = new RoomBuilder('10', 'walk-baselines/edges');
    const create = r.create(ALICE);
    r.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
    const a = message(r, 'a');
    const b1 = message(r, 'b1', [a]);
    const b2 = message(r, 'b2', [a]);
    const b3 = message(r, 'b3', [a]);
    const rejected = message(r, 'from bob', [b1], BOB); // bob is not in the room
    const gap = message(r, 'gap', [b2]); // never imported: a placeholder
    const crossing = message(r, 'crossing', [b3, theirs]);
    const merge = message(r, 'merge', [rejected, gap, crossing]);
    const tip = message(r, 'tip', [merge]);
    await importLines(graph, r.events.filter((event) => event !== gap));
    const adjacency = await loadAdjacency(graph, r.roomId);
    expect(adjacency.events.get(rejected.event_id)?.rejected).toBe(true);
    expect(adjacency.events.get(gap.event_id)?.placeholder).toBe(true);

    const ask = (request: Partial<MissingEventsRequest>) =>
      sameAnswer(adjacency, { room_id: r.roomId, latest_events: [tip.event_id], earliest_events: [], min_depth: 0, limit: 10, ...request });
    // Through the rejected event (not returned) and past the placeholder (neither returned nor walked past);
    // never into the other room.
    expect(await ask({})).toEqual([create, r.events[1]!, a, b1, b3, crossing, merge].map((e) => e.event_id));
    // The limit counts the rejected event; the last level is cut by greater depth, then the smaller event_id.
    expect(await ask({ limit: 3 })).toEqual([crossing.event_id, merge.event_id]);
    // At limit 2 the second level (bob's and crossing, both of depth 5) keeps only the smaller event_id.
    const second = rejected.event_id < crossing.event_id ? [] : [crossing.event_id];
    expect(await ask({ limit: 2 })).toEqual([...second, merge.event_id]);
    for (const limit of [1, 2, 3, 4, 5, 6, 7, 8]) await ask({ limit });
    expect(await ask({ latest_events: ['$unknown-event-id'] })).toEqual([]);
    expect(await ask({ latest_events: [theirs.event_id] })).toEqual([]);
    expect(await ask({ earliest_events: [tip.event_id] })).toEqual([]);
    expect(await ask({ latest_events: [create.event_id] })).toEqual([]);
    expect(await ask({ min_depth: tip.depth + 1 })).toEqual([]);
    expect(await ask({ min_depth: b1.depth })).toEqual([b1, b3, crossing, merge].map((e) => e.event_id));
    expect(await ask({ earliest_events: [crossing.event_id, b1.event_id] })).toEqual([merge.event_id]);
    // Latest events that are ancestors of each other, and duplicates: neither latest is returned.
    expect(await ask({ latest_events: [tip.event_id, merge.event_id, tip.event_id] })).not.toContain(merge.event_id);
    expect(await ask({ room_id: other.roomId })).toEqual([]);
  });
});

describe('benchWalks', () => {
  it('gives JSON-able figures per room and limit, with no mismatch, that formatWalkTable prints with the targets', async () => {
    const [forked, small] = generated as [(typeof generated)[0], (typeof generated)[0]];
    const figures = await benchWalks(graph, [{ label: 'small', roomId: small.roomId }, { label: 'forked', roomId: forked.roomId }], {
      limits: [10, 20],
      shapes: 6,
      runs: 1,
    });
    expect(JSON.parse(JSON.stringify(figures))).toEqual(figures);
    expect(figures.base).toBe('small');
    expect(figures.rooms.map((room) => [room.label, room.events, room.rows.map((row) => row.limit)])).toEqual([
      ['small', small.stored, [10, 20]],
      ['forked', forked.stored, [10, 20]],
    ]);
    for (const room of figures.rooms) {
      expect(room.shapes.count).toBe(6);
      expect(room.shapes.withMinDepth).toBe(1);
      for (const row of room.rows) {
        expect(row.mismatches).toBe(0);
        expect(row.dbHits).toBeGreaterThan(0);
        expect(row.returned).toBeGreaterThan(0);
        // Synapse's pattern asks once per latest event, once per event of each expanded level, once at the end.
        expect(row.synapse.queries).toBeGreaterThanOrEqual(2);
        expect(row.ratios.synapseToWalk).toBeCloseTo(row.synapse.p50 / row.walk.p50, 10);
        expect(row.ratios.p50ToBase === null).toBe(room.label === 'small');
      }
    }
    expect(figures.targets.map((t) => `${t.kind} ${t.room}/${t.limit} <${t.bound}`)).toEqual([
      'synapse small/10 <3', 'floor small/10 <3', 'synapse small/20 <3', 'floor small/20 <3',
      'synapse forked/10 <3', 'floor forked/10 <3', 'flat forked/10 <1.3', 'synapse forked/20 <3', 'floor forked/20 <3', 'flat forked/20 <1.3',
    ]);
    const text = formatWalkTable(figures);
    const lines = text.split('\n');
    expect(lines.filter((line) => /^(small|forked) /.test(line))).toHaveLength(8);
    for (const kind of ['Synapse', 'RETURN 1', 'flat cost']) {
      expect(lines.filter((line) => line.includes(kind) && /^ {2}(met {3}|MISSED) /.test(line))).toHaveLength(1);
    }
    expect(text).not.toContain('WARNING');
  });
});
