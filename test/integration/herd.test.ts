/**
 * One walk for a herd (src/store/walk-sharing.ts), end to end: the service as main.ts wires it (X-Matrix, the rate
 * limiter, the per-(origin, room) queue, the event store with its walk metrics) on a real listener and a real Neo4j.
 * The Neo4j driver is the real one; the graph handed to the event store only counts the walk queries it runs and can
 * hold a walk until the test lets it go, so that a herd is certain to arrive while its walk is in flight.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { redactEvent } from '../../src/core/redaction';
import { getRoomVersion } from '../../src/core/room-versions';
import { generateSigningKey, type SigningKey } from '../../src/core/signing';
import type { MissingEventsRequest } from '../../src/core/missing-events-request';
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { createApp } from '../../src/http/app';
import { listen } from '../../src/http/client-error';
import { createMetrics, type Metrics } from '../../src/http/metrics';
import { federationRateLimit, oneWalkPerRoom } from '../../src/http/rate-limit-middleware';
import { FederationRateLimiter } from '../../src/http/rate-limit';
import { xMatrixAuth } from '../../src/http/x-matrix-auth';
import { createLogger } from '../../src/logger';
import { registerRoomKeys } from '../../src/service/demo-room';
import { EventStore } from '../../src/store/event-store';
import type { Graph } from '../../src/store/neo4j';
import { DEFAULT_LIMITS, missingEventsPath, signedPost, startTestService, type Reply, type TestService } from '../helpers/federation';
import { importLines, openTestGraph } from '../helpers/graph';
import { addRedaction } from '../helpers/redaction-event';
import { watchingWalks } from '../helpers/walk-queries';

const VERSION = '11';
const ALICE = '@alice:hs1.test';
/** Servers whose users join before the messages (they see them) and after (they get them redacted). */
const EARLY = ['hs2.test', 'hs3.test', 'hs4.test', 'hs5.test'];
const LATE = ['hs6.test', 'hs7.test', 'hs8.test', 'hs9.test'];
const HERD = [...EARLY, ...LATE];
const OUTSIDER = 'hs10.test';

let graph: Graph;
let keys: TestService;
let service: { url: string; server: Server; metrics: Metrics; store: EventStore };
const identities = new Map<string, SigningKey>();

/** Walk queries sent to Neo4j, and a hold on them while `held` is set. */
const walks = { run: 0, held: undefined as Promise<void> | undefined };

/** Counts the walk queries and holds them while `walks.held` is set. */
function countingGraph(real: Graph): Graph {
  return watchingWalks(real, () => {
    walks.run += 1;
    return walks.held;
  });
}

beforeAll(async () => {
  graph = await openTestGraph();
  keys = await startTestService({ graph, keyFetcherOptions: { minRefetchIntervalMs: 3_600_000 } });
  for (const name of ['hs1.test', ...HERD, OUTSIDER]) identities.set(name, generateSigningKey(`v${Math.random().toString(36).slice(2, 10)}`));
  await registerRoomKeys({ room_id: '!keys:us.test', room_version: VERSION, servers: identities }, keys.keyStore, Date.now());
  // As main.ts wires it: the metrics shared with the store, the limiter and the per-(origin, room) queue, with the
  // window raised so that one test's requests are never delayed.
  const metrics = createMetrics();
  const store = new EventStore(countingGraph(graph), metrics.walks);
  const logger = createLogger('error', true);
  const limiter = new FederationRateLimiter({ windowMs: 1000, sleepLimit: 1000, sleepDelayMs: 0, rejectLimit: 1000, concurrent: 3 });
  const app = createApp({
    metrics,
    missingEvents: { events: store, limits: DEFAULT_LIMITS },
    server: { serverName: keys.serverName, signingKey: keys.signingKey },
    authenticate: xMatrixAuth({ serverName: keys.serverName, keyFetcher: keys.keyFetcher, now: Date.now, logger }),
    rateLimit: [federationRateLimit(limiter), oneWalkPerRoom()],
    logger,
    bodyLimitBytes: 1024 * 1024,
  });
  const server = await listen(app, 0, '127.0.0.1');
  service = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, metrics, store };
});

afterAll(async () => {
  service?.server.closeAllConnections();
  await new Promise<void>((resolve) => (service ? service.server.close(() => resolve()) : resolve()));
  await keys?.close();
  await graph?.driver.close();
});

let rooms = 0;

/** History visibility `joined`; EARLY's users join, two messages, LATE's users join, then the latest message. */
function herdRoom() {
  const r = new RoomBuilder(VERSION, `herd/${(rooms += 1)}/${Date.now()}`);
  r.create(ALICE);
  r.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  r.add({ type: 'm.room.power_levels', state_key: '', sender: ALICE, content: { users: { [ALICE]: 100 }, redact: 50 } });
  r.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  const visibility = r.add({ type: 'm.room.history_visibility', state_key: '', sender: ALICE, content: { history_visibility: 'joined' } });
  const joins = new Map<string, BuiltEvent>();
  const join = (server: string) => {
    const user = `@u:${server}`;
    joins.set(server, r.add({ type: 'm.room.member', state_key: user, sender: user, content: { membership: 'join' } }));
  };
  EARLY.forEach(join);
  const m1 = r.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: 'm1' } });
  const m2 = r.add({ type: 'm.room.message', sender: '@u:hs2.test', content: { msgtype: 'm.text', body: 'm2' } });
  LATE.forEach(join);
  const latest = r.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: 'latest' } });
  return { r, visibility, joins, m1, m2, latest };
}

/**
 * What `origin` must get: every event before `latest`, oldest first, whole when the state after it lets `origin`
 * see it (no history visibility yet: shared; then `joined`: from its own join on), redacted otherwise.
 */
function expectedFor(origin: string, room: ReturnType<typeof herdRoom>, redacted: readonly BuiltEvent[] = []): unknown[] {
  const { r, visibility, joins, latest } = room;
  const version = getRoomVersion(VERSION)!;
  const events = r.events.slice(0, r.events.indexOf(latest));
  const visibleFrom = events.indexOf(joins.get(origin)!);
  return events.map((event, index) => {
    const pdu = redacted.includes(event) ? redactEvent(event.pdu, version) : event.pdu;
    const visible = index < events.indexOf(visibility) || index >= visibleFrom;
    return visible ? pdu : redactEvent(pdu, version);
  });
}

const request = (latest: BuiltEvent) => ({ earliest_events: [], latest_events: [latest.event_id], limit: 20, min_depth: 0 });

function ask(roomId: string, origin: string, body: Record<string, unknown>): Promise<Reply> {
  return signedPost({ url: service.url, path: missingEventsPath(roomId), origin, key: identities.get(origin)!, destination: keys.serverName, body });
}

async function walkCounts(): Promise<{ started: number; shared: number }> {
  const metric = await service.metrics.registry.getSingleMetric('maxtryx_walks_total')!.get();
  const of = (outcome: string) => metric.values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
  return { started: of('started'), shared: of('shared') };
}

/** Waits until `done()`, checking every 10 ms, for at most `capMs` (generous: the host may be busy). */
async function until(done: () => Promise<boolean>, capMs = 60_000): Promise<void> {
  const deadline = Date.now() + capMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('gave up waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** All of `origins` ask `body` at once, while the walk is held until every request but the first has joined it. */
async function herd(roomId: string, origins: readonly string[], body: Record<string, unknown>): Promise<Reply[]> {
  const before = await walkCounts();
  let release!: () => void;
  walks.held = new Promise<void>((resolve) => (release = resolve));
  try {
    const replies = Promise.all(origins.map((origin) => ask(roomId, origin, body)));
    await until(async () => (await walkCounts()).shared - before.shared >= origins.length - 1);
    release();
    return await replies;
  } finally {
    walks.held = undefined;
    release();
  }
}

describe('a herd: the same walk from several origins at once', () => {
  it('runs one walk, and each origin gets exactly what it gets alone (joined before the messages or after)', async () => {
    const room = herdRoom();
    const { problems } = await importLines(graph, room.r.events);
    expect(problems).toEqual([]);
    const body = request(room.latest);

    // Alone, one after another: one walk each.
    const alone = new Map<string, unknown>();
    const runBefore = walks.run;
    for (const origin of HERD) {
      const reply = await ask(room.r.roomId, origin, body);
      expect(reply.status).toBe(200);
      expect((reply.json as { events: unknown[] }).events).toEqual(expectedFor(origin, room));
      alone.set(origin, reply.json);
    }
    expect(walks.run - runBefore).toBe(HERD.length);
    // The two groups get different answers: the messages whole before their join, redacted after.
    const version = getRoomVersion(VERSION)!;
    const m1At = room.r.events.indexOf(room.m1);
    expect((alone.get('hs2.test') as { events: unknown[] }).events[m1At]).toEqual(room.m1.pdu);
    expect((alone.get('hs6.test') as { events: unknown[] }).events[m1At]).toEqual(redactEvent(room.m1.pdu, version));

    // Together: one walk for all eight, the others answered by it.
    const counted = await walkCounts();
    const runTogether = walks.run;
    const replies = await herd(room.r.roomId, HERD, body);
    expect(walks.run - runTogether).toBe(1);
    expect(await walkCounts()).toEqual({ started: counted.started + 1, shared: counted.shared + HERD.length - 1 });
    replies.forEach((reply, index) => {
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual(alone.get(HERD[index]!));
    });
  });

  it('a write to the room between two herds is seen by the second', async () => {
    const room = herdRoom();
    const { r, m2, latest } = room;
    expect((await importLines(graph, r.events)).problems).toEqual([]);
    const body = request(latest);
    const first = await herd(r.roomId, HERD, body);
    first.forEach((reply, index) => expect((reply.json as { events: unknown[] }).events).toEqual(expectedFor(HERD[index]!, room)));

    // Alice redacts m2 (on a branch after `latest`, so the walk from `latest` is the same walk).
    const redaction = addRedaction(r, ALICE, m2.event_id, [latest]);
    expect((await importLines(graph, [redaction])).problems).toEqual([]);
    const runBefore = walks.run;
    const second = await herd(r.roomId, HERD, body);
    expect(walks.run - runBefore).toBe(1);
    second.forEach((reply, index) => {
      expect(reply.status).toBe(200);
      expect((reply.json as { events: unknown[] }).events).toEqual(expectedFor(HERD[index]!, room, [m2]));
    });
    // m2 itself differs between the herds for an early server: whole, then pruned.
    const at = r.events.indexOf(m2);
    expect((first[0]!.json as { events: unknown[] }).events[at]).toEqual(m2.pdu);
    expect((second[0]!.json as { events: unknown[] }).events[at]).toEqual(redactEvent(m2.pdu, getRoomVersion(VERSION)!));
  });

  it('an origin that may not read the room does not walk, and one asking beside it still gets its events', async () => {
    const room = herdRoom();
    expect((await importLines(graph, room.r.events)).problems).toEqual([]);
    const walkRequest: MissingEventsRequest = { room_id: room.r.roomId, ...request(room.latest) };

    // Over HTTP: the outsider's answer is 403 M_FORBIDDEN with no walk run for it.
    const runBefore = walks.run;
    const refused = await ask(room.r.roomId, OUTSIDER, request(room.latest));
    expect(refused.status).toBe(403);
    expect((refused.json as { errcode: string }).errcode).toBe('M_FORBIDDEN');
    expect(walks.run - runBefore).toBe(1);

    // The outsider asks first, hs2 joins its walk in the same tick: the walk the outsider started does not run the
    // walk (it may not read the room), so hs2 walks on its own, and gets what it gets alone.
    const [outsider, member] = await Promise.all([
      service.store.missingEvents(walkRequest, OUTSIDER),
      service.store.missingEvents(walkRequest, 'hs2.test'),
    ]);
    expect(outsider.events).toEqual([]);
    expect(outsider.room?.origin_joined).toBe(false);
    expect(member.room?.origin_joined).toBe(true);
    const alone = await service.store.missingEvents(walkRequest, 'hs2.test');
    expect(member).toEqual(alone);
    expect(alone.events.map((event) => event.pdu)).toEqual(
      room.r.events.slice(0, room.r.events.indexOf(room.latest)).map((event) => JSON.stringify(event.pdu)),
    );
  });
});
