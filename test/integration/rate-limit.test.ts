/**
 * The per-origin rate limits and the (origin, room) linearizer on a real listener, against the real Neo4j, with
 * requests signed as other homeservers sign them. The limiter's clock is the test's, so `retry_after_ms` is exact.
 */
import { generateSigningKey, type SigningKey } from '../../src/core/signing';
import { signRequest } from '../../src/core/x-matrix';
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { FederationRateLimiter, KeyedSemaphore, type RateLimitSettings } from '../../src/http/rate-limit';
import { federationRateLimit, oneWalkPerRoom } from '../../src/http/rate-limit-middleware';
import { createApp } from '../../src/http/app';
import { listen } from '../../src/http/client-error';
import { xMatrixAuth } from '../../src/http/x-matrix-auth';
import { createLogger } from '../../src/logger';
import { registerRoomKeys } from '../../src/service/demo-room';
import { EventStore } from '../../src/store/event-store';
import { request as httpRequest, type ClientRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Graph } from '../../src/store/neo4j';
import { DEFAULT_LIMITS, missingEventsPath, rawRequest, signedPost, startTestService, type Reply, type TestService } from '../helpers/federation';
import { importLines, openTestGraph } from '../helpers/graph';

const ALICE = '@alice:hs1.test';
const ORIGINS = ['hs1.test', 'hs2.test', 'hs3.test'];
const identities = new Map<string, SigningKey>();
let graph: Graph;
const services: TestService[] = [];
let time = 0;
const clock = { now: () => time, sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };

interface Room {
  readonly roomId: string;
  readonly latest: BuiltEvent;
  readonly previous: BuiltEvent;
}
let roomA: Room;
let roomB: Room;

async function makeRoom(seed: string): Promise<Room> {
  const builder = new RoomBuilder('10', `rate-limit/${seed}/${Date.now()}`);
  builder.create(ALICE);
  builder.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  builder.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  for (const user of ['@bob:hs2.test', '@carol:hs3.test'])
    builder.add({ type: 'm.room.member', state_key: user, sender: user, content: { membership: 'join' } });
  const previous = builder.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: 'one' } });
  const latest = builder.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: 'two' } });
  const { problems } = await importLines(graph, builder.events);
  expect(problems).toEqual([]);
  return { roomId: builder.roomId, latest, previous };
}

beforeAll(async () => {
  graph = await openTestGraph();
  for (const name of ORIGINS) identities.set(name, generateSigningKey(`t${Math.random().toString(36).slice(2, 10)}`));
  const setup = await startTestService({ graph });
  services.push(setup);
  await registerRoomKeys({ room_id: '!keys:us.test', room_version: '10', servers: identities }, setup.keyStore, Date.now());
  roomA = await makeRoom('a');
  roomB = await makeRoom('b');
});

afterAll(async () => {
  for (const service of services.splice(0)) await service.close();
  await graph?.driver.close();
});

async function serviceWith(settings: RateLimitSettings, linearizer = new KeyedSemaphore(1)): Promise<{ service: TestService; limiter: FederationRateLimiter }> {
  const limiter = new FederationRateLimiter(settings, clock);
  const service = await startTestService({
    graph,
    keyFetcherOptions: { minRefetchIntervalMs: 60 * 60 * 1000 },
    rateLimit: [federationRateLimit(limiter), oneWalkPerRoom(linearizer)],
  });
  services.push(service);
  return { service, limiter };
}

function ask(service: TestService, origin: string, room: Room): Promise<Reply> {
  return signedPost({
    url: service.url,
    path: missingEventsPath(room.roomId),
    origin,
    key: identities.get(origin)!,
    destination: service.serverName,
    body: { latest_events: [room.latest.event_id], limit: 1 },
  });
}

function expectPrevious(reply: Reply, room: Room): void {
  expect({ status: reply.status, text: reply.text }).toEqual({ status: 200, text: `{"events":[${JSON.stringify(room.previous.pdu)}]}` });
}

/** Whether the promise has settled after `ms` of real time. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return settled;
}

describe('the per-origin window', () => {
  it('answers 429 M_LIMIT_EXCEEDED with retry_after_ms beyond the reject limit, and only to that origin', async () => {
    time = 10_000;
    const { service } = await serviceWith({ windowMs: 60_000, sleepLimit: 100, sleepDelayMs: 0, rejectLimit: 3, concurrent: 3 });
    for (let i = 0; i < 3; i++) expectPrevious(await ask(service, 'hs2.test', roomA), roomA);

    time = 25_000;
    const refused = await rawRequestSigned(service, 'hs2.test', roomA);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('45');
    expect(refused.text).toBe('{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests from hs2.test; retry later","retry_after_ms":45000}');

    // Another origin has its own window.
    expectPrevious(await ask(service, 'hs3.test', roomA), roomA);
    // An unauthenticated request is refused before it is counted, so it cannot use up a server's allowance.
    const unsigned = await rawRequest({ url: service.url, method: 'POST', path: missingEventsPath(roomA.roomId), body: '{}' });
    expect(unsigned.status).toBe(401);

    // Once the first three requests have left the window, the origin is served again.
    time = 70_000;
    expectPrevious(await ask(service, 'hs2.test', roomA), roomA);
  });

  it('delays requests beyond the sleep limit by the sleep delay', async () => {
    time = 0;
    const { service } = await serviceWith({ windowMs: 60_000, sleepLimit: 1, sleepDelayMs: 400, rejectLimit: 10, concurrent: 3 });
    let started = performance.now();
    expectPrevious(await ask(service, 'hs2.test', roomA), roomA);
    const first = performance.now() - started;
    started = performance.now();
    expectPrevious(await ask(service, 'hs2.test', roomA), roomA);
    const second = performance.now() - started;
    expect(first).toBeLessThan(400);
    expect(second).toBeGreaterThanOrEqual(400);
  });
});

describe('concurrency', () => {
  it('runs one walk at a time per (origin, room): a second request for the room waits, other rooms and origins do not', async () => {
    time = 0;
    const linearizer = new KeyedSemaphore(1);
    const { service } = await serviceWith({ windowMs: 1000, sleepLimit: 100, sleepDelayMs: 0, rejectLimit: 100, concurrent: 3 }, linearizer);
    // The test holds hs2.test's turn on room A, as a walk in progress would.
    const release = await linearizer.acquire(`hs2.test\u0000${roomA.roomId}`);
    const waiting = ask(service, 'hs2.test', roomA);
    expect(await settledWithin(waiting, 300)).toBe(false);
    expectPrevious(await ask(service, 'hs2.test', roomB), roomB);
    expectPrevious(await ask(service, 'hs3.test', roomA), roomA);
    release();
    expectPrevious(await waiting, roomA);
    expect(linearizer.size).toBe(0);
  });

  it('handles at most RC_FEDERATION_CONCURRENT requests of one origin at once, queueing the rest', async () => {
    time = 0;
    const linearizer = new KeyedSemaphore(1);
    const { service, limiter } = await serviceWith({ windowMs: 1000, sleepLimit: 100, sleepDelayMs: 0, rejectLimit: 100, concurrent: 1 }, linearizer);
    const release = await linearizer.acquire(`hs2.test\u0000${roomA.roomId}`);
    // The first request holds hs2.test's only slot while it waits for room A; the second queues for the slot.
    const first = ask(service, 'hs2.test', roomA);
    expect(await settledWithin(first, 200)).toBe(false);
    const second = ask(service, 'hs2.test', roomB);
    expect(await settledWithin(second, 300)).toBe(false);
    expect(limiter.load('hs2.test')).toEqual({ active: 1, waiting: 1 });
    expectPrevious(await ask(service, 'hs3.test', roomB), roomB);
    release();
    expectPrevious(await first, roomA);
    expectPrevious(await second, roomB);
    expect(limiter.load('hs2.test')).toEqual({ active: 0, waiting: 0 });
  });
});

/**
 * The service with the rate limits and a walk counter: the store passed in is the real Neo4j one, wrapped to count
 * walks and how many run at once, and to hold the first walk until the test lets it go, as a slow walk would.
 */
async function countingService(options: { concurrent: number; requestDeadlineMs?: number }) {
  const limiter = new FederationRateLimiter({ windowMs: 1000, sleepLimit: 1000, sleepDelayMs: 0, rejectLimit: 1000, concurrent: options.concurrent }, clock);
  const linearizer = new KeyedSemaphore(1);
  const store = new EventStore(graph);
  const walks = { started: 0, running: 0, mostAtOnce: 0 };
  let letFirstGo!: () => void;
  const firstHeld = new Promise<void>((resolve) => (letFirstGo = resolve));
  const events: Pick<EventStore, 'missingEvents'> = {
    missingEvents: async (...args) => {
      walks.started++;
      walks.running++;
      walks.mostAtOnce = Math.max(walks.mostAtOnce, walks.running);
      try {
        if (walks.started === 1) await firstHeld;
        return await store.missingEvents(...args);
      } finally {
        walks.running--;
      }
    },
  };
  const logger = createLogger('error', true);
  const serverName = services[0]!.serverName;
  const app = createApp({
    missingEvents: { events, limits: DEFAULT_LIMITS },
    server: { serverName, signingKey: services[0]!.signingKey },
    authenticate: xMatrixAuth({ serverName, keyFetcher: services[0]!.keyFetcher, now: Date.now, logger }),
    rateLimit: [federationRateLimit(limiter), oneWalkPerRoom(linearizer)],
    requestDeadlineMs: options.requestDeadlineMs,
    logger,
    bodyLimitBytes: 1024 * 1024,
  });
  const server = await listen(app, 0, '127.0.0.1');
  services.push({ close: () => closeServer(server) } as TestService);
  return { server, limiter, linearizer, walks, letFirstGo, serverName };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Sends a signed request on a connection of its own; the caller may destroy it to hang up. */
function openRequest(server: Server, serverName: string, origin: string, room: Room): { request: ClientRequest; reply: Promise<Reply | 'hung up'> } {
  const body = { latest_events: [room.latest.event_id], limit: 1 };
  const path = missingEventsPath(room.roomId);
  const authorization = signRequest({ method: 'POST', uri: path, origin, destination: serverName, content: body, key: identities.get(origin)! });
  const port = (server.address() as AddressInfo).port;
  let request!: ClientRequest;
  const reply = new Promise<Reply | 'hung up'>((resolve) => {
    request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, agent: false, headers: { authorization, 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, text, json: JSON.parse(text) as unknown });
      });
      res.on('error', () => resolve('hung up'));
    });
    request.on('error', () => resolve('hung up'));
    request.end(JSON.stringify(body));
  });
  return { request, reply };
}

/** Waits until `condition` holds, checking every 20 ms, for at most `capMs` (generous: the host may be busy). */
async function until(condition: () => boolean | Promise<boolean>, what: string, capMs = 30_000): Promise<void> {
  const deadline = Date.now() + capMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

describe('callers that hang up or time out', () => {
  it('keep their slots until the walk is done: 30 requests that hang up at once run 1 walk, not 30', async () => {
    time = 0;
    const { server, limiter, linearizer, walks, letFirstGo, serverName } = await countingService({ concurrent: 3 });
    const requests = Array.from({ length: 30 }, () => openRequest(server, serverName, 'hs2.test', roomA));
    // The first request walks (held by the test); two more hold hs2.test's other slots, waiting for room A's turn;
    // 27 wait for a slot.
    await until(() => walks.started === 1 && limiter.load('hs2.test').waiting === 27, '30 requests are in');
    expect(limiter.load('hs2.test')).toEqual({ active: 3, waiting: 27 });
    expect(linearizer.load(`hs2.test\u0000${roomA.roomId}`)).toEqual({ active: 1, waiting: 2 });

    for (const { request } of requests) request.destroy();
    await until(async () => (await connections(server)) === 0, 'the service saw every caller hang up');
    // The walk running keeps its slot and room A's turn; the 29 others, gone before their turn, left the queues
    // (keeping no body in memory) and started no walk.
    expect(walks).toEqual({ started: 1, running: 1, mostAtOnce: 1 });
    expect(limiter.load('hs2.test')).toEqual({ active: 1, waiting: 0 });
    expect(linearizer.load(`hs2.test\u0000${roomA.roomId}`)).toEqual({ active: 1, waiting: 0 });

    letFirstGo();
    await until(() => limiter.load('hs2.test').active === 0 && linearizer.size === 0, 'every slot is free');
    // The 29 callers gone before their turn did no work at all.
    expect(walks).toEqual({ started: 1, running: 0, mostAtOnce: 1 });
    expect(await Promise.all(requests.map((r) => r.reply))).toEqual(Array.from({ length: 30 }, () => 'hung up'));
  });

  it('a request answered 503 by the deadline while it waits for its turn does no walk', async () => {
    time = 0;
    const { server, linearizer, walks, letFirstGo, serverName } = await countingService({ concurrent: 3, requestDeadlineMs: 500 });
    const first = openRequest(server, serverName, 'hs3.test', roomB);
    await until(() => walks.started === 1, 'the first walk started');
    const second = openRequest(server, serverName, 'hs3.test', roomB);
    const unavailable = { errcode: 'M_UNAVAILABLE', error: 'The request was not answered within 500 ms; retry shortly' };
    for (const reply of [await first.reply, await second.reply]) {
      expect(reply).toEqual({ status: 503, text: JSON.stringify(unavailable), json: unavailable });
    }
    // Both were answered; the first walk still runs and still holds room B's turn; the second left the queue.
    await until(() => linearizer.load(`hs3.test\u0000${roomB.roomId}`).waiting === 0, 'the second request left the queue');
    expect(linearizer.load(`hs3.test\u0000${roomB.roomId}`)).toEqual({ active: 1, waiting: 0 });
    letFirstGo();
    await until(() => linearizer.size === 0, 'room B has no walk running or waiting');
    expect(walks).toEqual({ started: 1, running: 0, mostAtOnce: 1 });
  });
});

/** A signed request whose Retry-After header is read too. */
async function rawRequestSigned(service: TestService, origin: string, room: Room): Promise<{ status: number; text: string; retryAfter: string | null }> {
  const body = { latest_events: [room.latest.event_id], limit: 1 };
  const path = missingEventsPath(room.roomId);
  const authorization = signRequest({ method: 'POST', uri: path, origin, destination: service.serverName, content: body, key: identities.get(origin)! });
  const response = await fetch(`${service.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
  return { status: response.status, text: await response.text(), retryAfter: response.headers.get('retry-after') };
}
