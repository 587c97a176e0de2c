/**
 * Walks batched into one query (src/store/walk-batching.ts; cypher/walk.cypher takes a list of walks) on a real
 * Neo4j: the walks that wait for a query slot go out together, and each gets exactly what it gets alone, whatever
 * the walks beside it ask: another room, an unknown room, an origin that may not read the room, a latest event not
 * held, a walk that finds nothing.
 */
import type { MissingEventsRequest } from '../../src/core/missing-events-request';
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { createMetrics } from '../../src/http/metrics';
import { EventStore, type WalkAsk as Ask } from '../../src/store/event-store';
import type { Graph } from '../../src/store/neo4j';
import { importLines, openTestGraph } from '../helpers/graph';
import { watchingWalks } from '../helpers/walk-queries';

let graph: Graph;
const ALICE = '@alice:hs1.test';
const BOB = '@bob:hs4.test';

/** History visibility `joined`: hs2 joins before the fork, hs3 after it; hs5 never joins. */
function roomA(): RoomBuilder {
  const r = new RoomBuilder('11', `walk-batching/a/${Date.now()}`);
  r.create(ALICE);
  r.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  r.add({ type: 'm.room.power_levels', state_key: '', sender: ALICE, content: { users: { [ALICE]: 100 } } });
  r.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  r.add({ type: 'm.room.history_visibility', state_key: '', sender: ALICE, content: { history_visibility: 'joined' } });
  r.add({ type: 'm.room.member', state_key: '@u:hs2.test', sender: '@u:hs2.test', content: { membership: 'join' } });
  const m1 = r.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: 'm1' } });
  const authState = r.stateSnapshot();
  const a1 = r.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: 'a1' }, prev: [m1], authState });
  const b1 = r.add({ type: 'm.room.message', sender: '@u:hs2.test', content: { msgtype: 'm.text', body: 'b1' }, prev: [m1], authState });
  r.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: 'm2' }, prev: [a1, b1] });
  r.add({ type: 'm.room.member', state_key: '@u:hs3.test', sender: '@u:hs3.test', content: { membership: 'join' } });
  r.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: 'm3' } });
  r.add({ type: 'm.room.message', sender: '@u:hs3.test', content: { msgtype: 'm.text', body: 'm4' } });
  return r;
}

/** History visibility `shared` (the default), one server. */
function roomB(): RoomBuilder {
  const r = new RoomBuilder('10', `walk-batching/b/${Date.now()}`);
  r.create(BOB);
  r.add({ type: 'm.room.member', state_key: BOB, sender: BOB, content: { membership: 'join' } });
  for (const body of ['b1', 'b2', 'b3']) r.add({ type: 'm.room.message', sender: BOB, content: { msgtype: 'm.text', body } });
  return r;
}

function walkFrom(r: RoomBuilder, latest: BuiltEvent, limit: number, origin: string | null, more: Partial<MissingEventsRequest> = {}): Ask {
  return { request: { room_id: r.roomId, latest_events: [latest.event_id], earliest_events: [], min_depth: 0, limit, ...more }, origin };
}

beforeAll(async () => {
  graph = await openTestGraph();
});

afterAll(async () => {
  await graph?.driver.close();
});

it('sends the walks that wait for a query slot as one query, and each gets what it gets alone', async () => {
  const a = roomA();
  const b = roomB();
  expect((await importLines(graph, a.events)).problems).toEqual([]);
  expect((await importLines(graph, b.events)).problems).toEqual([]);
  const origins = ['hs1.test', 'hs2.test', 'hs3.test', 'hs5.test', null];
  const asks: Ask[] = [];
  a.events.slice(1).forEach((event, i) => {
    for (const limit of [2, 5, 9]) asks.push(walkFrom(a, event, limit, origins[(i + limit) % origins.length]!));
  });
  b.events.slice(1).forEach((event, i) => asks.push(walkFrom(b, event, 3, i % 2 === 0 ? 'hs4.test' : 'hs2.test')));
  const newestA = a.events[a.events.length - 1]!;
  asks.push(
    walkFrom(a, newestA, 4, 'hs2.test', { room_id: '!nowhere:hs9.test' }), // an unknown room
    { request: { room_id: a.roomId, latest_events: ['$not-held', newestA.event_id], earliest_events: [], min_depth: 0, limit: 3 }, origin: 'hs3.test' },
    walkFrom(a, newestA, 6, 'hs3.test', { earliest_events: [a.events[a.events.length - 2]!.event_id] }), // finds nothing
    walkFrom(a, newestA, 7, 'hs2.test', { min_depth: 1_000 }), // nothing that deep
    walkFrom(b, b.events[b.events.length - 1]!, 3, 'hs4.test', { latest_events: [newestA.event_id] }), // another room's event
  );
  expect(asks.length).toBe(3 * (a.events.length - 1) + (b.events.length - 1) + 5);

  // Alone, one after another: one query each.
  const aloneSizes: number[] = [];
  const aloneStore = new EventStore(watchingWalks({ ...graph, maxConnections: 1 }, ({ requests }) => void aloneSizes.push(requests.length)));
  const alone = [];
  for (const ask of asks) alone.push(await aloneStore.missingEvents(ask.request, ask.origin));
  expect(aloneSizes).toEqual(asks.map(() => 1));

  // All at once, one query slot: the first walk leaves alone, the others wait and leave 16 to a query.
  const sizes: number[] = [];
  const metrics = createMetrics();
  const store = new EventStore(watchingWalks({ ...graph, maxConnections: 1 }, ({ requests }) => void sizes.push(requests.length)), metrics.walks);
  const together = await Promise.all(asks.map((ask) => store.missingEvents(ask.request, ask.origin)));
  expect(asks.length).toBe(45);
  expect(sizes).toEqual([1, 16, 16, 12]);
  expect(together).toEqual(alone);
  // GET /metrics says so: 45 walks started in 4 queries.
  const exposition = (await metrics.registry.metrics()).split('\n');
  expect(exposition.filter((line) => /^maxtryx_walk(s|_queries)_total/.test(line))).toEqual([
    'maxtryx_walks_total{outcome="started"} 45',
    'maxtryx_walks_total{outcome="shared"} 0',
    'maxtryx_walk_queries_total 4',
  ]);

  // What the comparison covers: walks that found events, whole and redacted, and walks that found none.
  const pdus = alone.map((answer) => answer.events.length);
  expect(pdus.filter((count) => count > 0).length).toBeGreaterThan(30);
  expect(pdus.filter((count) => count === 0).length).toBeGreaterThan(5);
  expect(alone.filter((answer) => answer.room === undefined).length).toBe(1);
  // Not held: room A's event named in an unknown room and in room B, and an unknown event.
  expect(alone.map((answer) => answer.latestNotHeld).filter((ids) => ids.length > 0)).toEqual([[newestA.event_id], ['$not-held'], [newestA.event_id]]);
});
