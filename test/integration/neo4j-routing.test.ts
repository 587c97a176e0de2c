/**
 * Through a `neo4j://` routing URI, as a Neo4j cluster (Enterprise, Aura) is reached: the driver asks the server for
 * its routing table and sends READ sessions to readers, WRITE sessions to the leader. The local Community server
 * answers with itself in every role, so the whole path runs here: the importer writes through executeWrite, the
 * service answers get_missing_events, and the test checks that serving it opened READ sessions only and wrote
 * nothing, so a cluster could send all of it to a secondary.
 */
import { Session } from 'neo4j-driver';
import { generateSigningKey, type SigningKey } from '../../src/core/signing';
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { registerRoomKeys } from '../../src/service/demo-room';
import { applySchema, openGraph, type Graph } from '../../src/store/neo4j';
import { missingEventsPath, signedPost, startTestService, type TestService } from '../helpers/federation';
import { importLines } from '../helpers/graph';
import { testNeo4j } from '../helpers/neo4j';
import { queryGraph } from '../helpers/room-graph';

const ALICE = '@alice:hs1.test';
const BOB = '@bob:hs2.test';

let graph: Graph;
let service: TestService;
let routingUri: string;
const hs2Key: SigningKey = generateSigningKey(`t${Math.random().toString(36).slice(2, 10)}`);
const events: BuiltEvent[] = [];

/** The access mode of every session opened, and the transaction functions run, while `work` runs. */
async function recordSessions(work: () => Promise<void>): Promise<{ sessions: string[]; writes: number; reads: number }> {
  const sessionSpy = jest.spyOn(graph.driver, 'session');
  const writeSpy = jest.spyOn(Session.prototype, 'executeWrite');
  const readSpy = jest.spyOn(Session.prototype, 'executeRead');
  try {
    await work();
    return {
      sessions: sessionSpy.mock.calls.map(([config]) => String(config?.defaultAccessMode ?? 'WRITE (the default)')),
      writes: writeSpy.mock.calls.length,
      reads: readSpy.mock.calls.length,
    };
  } finally {
    sessionSpy.mockRestore();
    writeSpy.mockRestore();
    readSpy.mockRestore();
  }
}

beforeAll(async () => {
  const { uri, user, password, database } = testNeo4j();
  const address = new URL(uri).host;
  routingUri = `neo4j://${address}`;
  graph = openGraph({ uri: routingUri, user: user || undefined, password, database, queryTimeoutMs: 5_000 });
  await applySchema(graph);
  service = await startTestService({ graph });
  await registerRoomKeys({ room_id: '!keys:us.test', room_version: '10', servers: new Map([['hs2.test', hs2Key]]) }, service.keyStore, Date.now());

  const builder = new RoomBuilder('10', `neo4j-routing/${Date.now()}`);
  events.push(builder.create(ALICE, {}));
  events.push(builder.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } }));
  events.push(builder.add({ type: 'm.room.power_levels', state_key: '', sender: ALICE, content: { users: { [ALICE]: 100 } } }));
  events.push(builder.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } }));
  events.push(builder.add({ type: 'm.room.member', state_key: BOB, sender: BOB, content: { membership: 'join' } }));
  for (let i = 1; i <= 5; i += 1) events.push(builder.add({ type: 'm.room.message', sender: i % 2 === 0 ? BOB : ALICE, content: { msgtype: 'm.text', body: `message ${i}` } }));
});

afterAll(async () => {
  await service?.close();
  await graph?.driver.close();
});

test('the server gives itself as router, reader and writer, so the driver routes to it', async () => {
  const rows = await queryGraph<{ servers: { addresses: string[]; role: string }[] }>(
    graph,
    'CALL dbms.routing.getRoutingTable({}, $database) YIELD servers RETURN servers',
    { database: graph.database ?? null },
  );
  const address = new URL(routingUri.replace(/^neo4j:/, 'http:')).host;
  const roles = Object.fromEntries(rows[0]!.servers.map((server) => [server.role, server.addresses]));
  expect(roles).toEqual({ WRITE: [address], READ: [address], ROUTE: [address] });
});

test('the importer writes through WRITE sessions (the leader of a cluster)', async () => {
  const recorded = await recordSessions(async () => {
    const { summary, problems } = await importLines(graph, events);
    expect(problems).toEqual([]);
    expect(summary.stored).toBe(events.length);
  });
  // Its writes ran in executeWrite, in sessions opened for writing, which a routing driver sends to the leader.
  expect(recorded.writes).toBeGreaterThan(0);
  expect(recorded.sessions.filter((mode) => mode === 'WRITE').length).toBeGreaterThanOrEqual(recorded.writes);
});

test('get_missing_events is answered through the routing driver, with READ sessions only and no write', async () => {
  const latest = events.at(-1)!;
  const ask = () => signedPost({
    url: service.url,
    path: missingEventsPath(latest.pdu.room_id as string),
    origin: 'hs2.test',
    key: hs2Key,
    destination: service.serverName,
    body: { latest_events: [latest.event_id], earliest_events: [], limit: 3, min_depth: 0 },
  });
  // The first request of an origin may store its key (a write); the ones after it only read.
  expect((await ask()).status).toBe(200);
  let reply: Awaited<ReturnType<typeof ask>> | undefined;
  const recorded = await recordSessions(async () => {
    reply = await ask();
  });
  expect(reply!.status).toBe(200);
  expect(reply!.text).toBe(`{"events":[${events.slice(-4, -1).map((event) => JSON.stringify(event.pdu)).join(',')}]}`);
  expect(recorded.writes).toBe(0);
  expect(recorded.sessions.length).toBeGreaterThan(0);
  expect(recorded.sessions).toEqual(recorded.sessions.map(() => 'READ'));
});
