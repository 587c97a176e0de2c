/**
 * The walk benchmark's baselines (src/cli/bench-walk.ts) do the same work as the walk: on a generated forked room,
 * Synapse's per-event pattern and the in-memory walk return exactly the events walk.cypher returns, in its order,
 * for every request shape the benchmark sends, and a walk that differs is noticed.
 */
import { generateRoom, roomBuilderFor } from '../../src/generator/generate-room';
import { computeEventId } from '../../src/core/event-hashes';
import { getRoomVersion } from '../../src/core/room-versions';
import { loadRoomDag, memoryWalk, requestShapes, synapseWalk } from '../../src/cli/bench-walk';
import { EventStore } from '../../src/store/event-store';
import type { Graph } from '../../src/store/neo4j';
import { importLines, openTestGraph } from '../helpers/graph';

let graph: Graph;
let roomId: string;

beforeAll(async () => {
  graph = await openTestGraph();
  const options = { events: 400, roomVersion: '10', seed: 'bench-walk-baselines' };
  const builder = roomBuilderFor(options);
  const events = [...generateRoom(options, builder)];
  roomId = builder.roomId;
  const { problems } = await importLines(graph, events);
  expect(problems).toEqual([]);
});

afterAll(async () => {
  await graph.driver.close();
});

describe('walk benchmark baselines', () => {
  it.each([10, 20, 100])('give the walk’s exact answer for each of 60 request shapes at limit %i', async (limit) => {
    const store = new EventStore(graph);
    const dag = await loadRoomDag(graph, roomId);
    const shapes = await requestShapes(graph, roomId, 60, limit);
    expect(shapes).toHaveLength(60);
    const idOf = (pdu: string) => computeEventId(JSON.parse(pdu) as Record<string, unknown>, getRoomVersion('10')!)!;
    let nonEmpty = 0;
    for (const shape of shapes) {
      const expected = (await store.walk(shape)).map(idOf);
      if (expected.length > 0) nonEmpty += 1;
      expect(await synapseWalk(graph, shape)).toEqual(expected);
      expect(await memoryWalk(dag, shape)).toEqual(expected);
    }
    // The shapes walk somewhere: every one starts at a recent event with prev events to find.
    expect(nonEmpty).toBe(60);
  });

  it('shapes carry the other forward extremities and known events in earliest_events, and every fourth a min_depth', async () => {
    const shapes = await requestShapes(graph, roomId, 8, 20);
    expect(shapes.map((shape) => shape.min_depth > 0)).toEqual([false, false, false, true, false, false, false, true]);
    expect(shapes.map((shape) => shape.latest_events.length)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    for (const shape of shapes) expect(shape.earliest_events).not.toContain(shape.latest_events[0]);
    // A third of them name no known events: only extremities (the room may have none besides the latest).
    expect(shapes[1]!.earliest_events.length).toBeGreaterThan(shapes[0]!.earliest_events.length);
  });
});
