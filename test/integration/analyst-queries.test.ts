/**
 * The Cypher queries shipped for analysts (cypher/queries/*.cypher), run against the real Neo4j on a room built
 * event by event, with exact answers.
 */
import neo4j from 'neo4j-driver';
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { loadCypher } from '../../src/store/cypher-files';
import { plain, type Graph } from '../../src/store/neo4j';
import { importLines, openTestGraph } from '../helpers/graph';

const QUERIES = loadCypher(['queries/rooms', 'queries/newest-events', 'queries/forks', 'queries/joined-servers', 'queries/missing-events']);

let graph: Graph;
const r = new RoomBuilder('10', 'analyst-queries');
const ALICE = '@alice:hs1.test';
let a: BuiltEvent, b1: BuiltEvent, b2: BuiltEvent, gap: BuiltEvent, c: BuiltEvent, d: BuiltEvent;

beforeAll(async () => {
  graph = await openTestGraph();
  r.create(ALICE);
  r.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  r.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  for (const user of ['@bob:hs2.test', '@carol:hs2.test', '@dave:hs3.test']) {
    r.add({ type: 'm.room.member', state_key: user, sender: user, content: { membership: 'join' } });
  }
  r.add({ type: 'm.room.member', state_key: '@dave:hs3.test', sender: '@dave:hs3.test', content: { membership: 'leave' } });
  a = r.add({ type: 'm.room.message', sender: ALICE, content: { body: 'a' } });
  b1 = r.add({ type: 'm.room.message', sender: ALICE, content: { body: 'b1' }, prev: [a] });
  b2 = r.add({ type: 'm.room.message', sender: '@bob:hs2.test', content: { body: 'b2' }, prev: [a] });
  gap = r.add({ type: 'm.room.message', sender: ALICE, content: { body: 'gap' }, prev: [b1, b2] });
  c = r.add({ type: 'm.room.message', sender: ALICE, content: { body: 'c' }, prev: [gap] });
  d = r.add({ type: 'm.room.message', sender: ALICE, content: { body: 'd' }, prev: [c] });
  const { problems } = await importLines(graph, r.events.filter((event) => event !== gap));
  expect(problems).toEqual([]);
});

afterAll(async () => {
  await graph.driver.close();
});

async function run<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const { records } = await graph.driver.executeQuery(query, params, { database: graph.database });
  return records.map((record) => plain(record.toObject()) as T);
}

it('rooms: the room with its version and stored events', async () => {
  const rooms = await run<{ room_id: string }>(QUERIES['queries/rooms']);
  expect(rooms.filter((row) => row.room_id === r.roomId)).toEqual([
    { room_id: r.roomId, room_version: '10', events: r.events.length - 1 },
  ]);
});

it('newest-events: the PREV_EVENT edges among the newest events', async () => {
  const rows = await run<{ path: { start: { properties: { event_id: string } }; end: { properties: { event_id: string } } } }>(
    QUERIES['queries/newest-events'],
    { room_id: r.roomId, count: neo4j.int(4) },
  );
  // The four newest stored: d, c and b1, b2 (depths 12, 11, 9, 9); gap (depth 9) is a placeholder.
  const edges = rows.map(({ path }) => `${path.start.properties.event_id} -> ${path.end.properties.event_id}`).sort();
  expect(edges).toEqual([`${d.event_id} -> ${c.event_id}`]);
});

it('forks: events named as a prev_event by more than one event', async () => {
  expect(await run(QUERIES['queries/forks'], { room_id: r.roomId })).toEqual([{ event_id: a.event_id, depth: a.depth, children: 2 }]);
});

it('joined-servers: servers with joined members now', async () => {
  expect(await run(QUERIES['queries/joined-servers'], { room_id: r.roomId })).toEqual([
    { server: 'hs2.test', members: 2 },
    { server: 'hs1.test', members: 1 },
  ]);
});

it('missing-events: placeholders and the events that name them', async () => {
  expect(await run(QUERIES['queries/missing-events'], { room_id: r.roomId })).toEqual([
    { event_id: gap.event_id, named_by: [c.event_id] },
  ]);
});
