/**
 * What operators read: /health, /ready and /metrics on the ops listener (the federation listener has /health only),
 * and the answers while Neo4j cannot be reached: 503 M_UNAVAILABLE with Retry-After without waiting for a
 * connection, /ready 503 with a generic reason, no crash, and 200s again from the same service once its Neo4j
 * answers. The listeners' split itself is test/integration/ops-listener.test.ts.
 */
import { connect, createServer, type Server } from 'node:net';
import { RoomBuilder } from '../../src/generator/room-builder';
import { generateSigningKey, type SigningKey } from '../../src/core/signing';
import { registerRoomKeys } from '../../src/service/demo-room';
import { openGraph, type Graph } from '../../src/store/neo4j';
import { importLines, openTestGraph } from '../helpers/graph';
import { freePort } from '../helpers/free-ports';
import { missingEventsPath, rawRequest, signedPost, startTestService, type TestService } from '../helpers/federation';

const ALICE = '@alice:hs1.test';
let graph: Graph;
let identity: SigningKey;
let room: RoomBuilder;

beforeAll(async () => {
  graph = await openTestGraph();
  identity = generateSigningKey('ops1');
  room = new RoomBuilder('10', 'ops/room');
  room.create(ALICE);
  room.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  room.add({ type: 'm.room.history_visibility', state_key: '', sender: ALICE, content: { history_visibility: 'joined' } });
  for (let i = 0; i < 3; i++) room.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: `m${i}` } });
  const { problems } = await importLines(graph, room.events);
  expect(problems).toEqual([]);
});

afterAll(async () => {
  await graph?.driver.close();
});

async function withService<T>(options: Partial<Parameters<typeof startTestService>[0]>, work: (service: TestService) => Promise<T>): Promise<T> {
  const service = await startTestService({ graph, ...options });
  try {
    await registerRoomKeys({ room_id: '!keys:us.test', room_version: '10', servers: new Map([['hs1.test', identity]]) }, service.keyStore, Date.now());
    return await work(service);
  } finally {
    await service.close();
  }
}

const ask = (service: TestService, body: unknown) =>
  signedPost({ url: service.url, path: missingEventsPath(room.roomId), origin: 'hs1.test', key: identity, destination: service.serverName, body });

const latest = () => room.events[room.events.length - 1]!.event_id;

describe('/health and /ready', () => {
  it('answer 200 with their status while Neo4j answers and the schema is applied', async () => {
    await withService({}, async (service) => {
      for (const url of [service.url, service.opsUrl]) {
        const health = await rawRequest({ url, method: 'GET', path: '/health' });
        expect([health.status, health.json]).toEqual([200, { status: 'ok' }]);
        const post = await rawRequest({ url, method: 'POST', path: '/health' });
        expect([post.status, post.json]).toEqual([405, { errcode: 'M_UNRECOGNIZED', error: 'POST is not allowed on /health' }]);
      }
      const ready = await rawRequest({ url: service.opsUrl, method: 'GET', path: '/ready' });
      expect([ready.status, ready.json]).toEqual([200, { status: 'ready' }]);
    });
  });
});

describe('/metrics', () => {
  it('counts requests by route, status and errcode, and the events returned and redacted', async () => {
    await withService({}, async (service) => {
      const ok = await ask(service, { latest_events: [latest()], limit: 10 });
      expect(ok.status).toBe(200);
      expect((ok.json as { events: unknown[] }).events).toHaveLength(5);
      const bad = await ask(service, { latest_events: 'nope' });
      expect(bad.status).toBe(400);
      const metrics = await rawRequest({ url: service.opsUrl, method: 'GET', path: '/metrics' });
      expect(metrics.status).toBe(200);
      const lines = metrics.text.split('\n');
      const route = '/_matrix/federation/v1/get_missing_events/:roomId';
      expect(lines).toContain(`maxtryx_http_requests_total{route="${route}",status="200",errcode=""} 1`);
      expect(lines).toContain(`maxtryx_http_requests_total{route="${route}",status="400",errcode="M_BAD_JSON"} 1`);
      expect(lines).toContain(`maxtryx_http_request_duration_seconds_count{route="${route}"} 2`);
      // hs1.test is joined from alice's join on: of create, join, history visibility and three messages, the walk
      // from the newest returns the five before it, all visible (the create's state has no history visibility).
      expect(lines).toContain('maxtryx_missing_events_returned_total 5');
      expect(lines).toContain('maxtryx_missing_events_redacted_total 0');
      expect(lines).toContain('maxtryx_neo4j_unavailable_total 0');
    });
  });
});

describe('Neo4j unreachable', () => {
  it('answers 503 M_UNAVAILABLE with Retry-After without waiting for Neo4j, /ready 503, then the same service recovers by itself', async () => {
    // The walk's Neo4j is reached through a port where nothing listens at first (connections refused, as when Neo4j
    // is stopped); then a proxy to the test Neo4j starts listening there, as when it is started again.
    const port = await freePort();
    const down = openGraph({ uri: `bolt://127.0.0.1:${port}` });
    let proxy: Server | undefined;
    try {
      await withService({ eventsGraph: down }, async (service) => {
        // No request deadline here: the 503 comes from our 2 s connect timeout or the availability gate. The cap is
        // generous for a busy host and still far below the driver's own defaults (30 s to connect, 60 s for a
        // pooled connection), which is what it guards against.
        for (let i = 0; i < 3; i++) {
          const started = performance.now();
          const reply = await ask(service, { latest_events: [latest()], limit: 10 });
          expect(performance.now() - started).toBeLessThan(10_000);
          expect([reply.status, reply.json, reply.retryAfter]).toEqual([
            503, { errcode: 'M_UNAVAILABLE', error: 'The room graph is unavailable at the moment; retry shortly' }, '2',
          ]);
        }
        const ready = await fetch(`${service.opsUrl}/ready`);
        expect([ready.status, ready.headers.get('retry-after'), await ready.json()]).toEqual([
          503, '2', { errcode: 'M_UNAVAILABLE', error: 'Not ready: the room graph is not available' },
        ]);
        const metrics = await rawRequest({ url: service.opsUrl, method: 'GET', path: '/metrics' });
        // The three requests; /ready is the ops listener's and not counted with the requests.
        expect(metrics.text.split('\n')).toContain('maxtryx_neo4j_unavailable_total 3');

        proxy = await proxyTo(port, new URL(process.env.TEST_NEO4J_URI!.replace(/^[a-z+]+:/, 'http:')));
        // Until it answers, with a generous cap (a busy host may take several probes to plan the walk).
        const back = performance.now();
        let status = 0;
        while (status !== 200 && performance.now() - back < 90_000) {
          status = (await ask(service, { latest_events: [latest()], limit: 10 })).status;
          if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(status).toBe(200);
        const readyAgain = await rawRequest({ url: service.opsUrl, method: 'GET', path: '/ready' });
        expect([readyAgain.status, readyAgain.json]).toEqual([200, { status: 'ready' }]);
      });
    } finally {
      await down.driver.close();
      await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
    }
  });
});

function proxyTo(port: number, target: URL): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** Writes `raw` on a new connection and resolves with everything the service sends back before it closes. */
function rawExchange(url: string, raw: string): Promise<string> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(raw));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** The status line and the JSON body of a raw HTTP/1.1 answer. */
function parseAnswer(text: string): [string, unknown] {
  const [head, body] = text.split('\r\n\r\n');
  return [head!.split('\r\n')[0]!, JSON.parse(body!)];
}

describe('requests that are not valid HTTP/1.1', () => {
  it("answer a Matrix error naming the problem, not node's bare 400, and the service carries on", async () => {
    await withService({}, async (service) => {
      const path = missingEventsPath(room.roomId);
      expect(parseAnswer(await rawExchange(service.url, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}`))).toEqual([
        'HTTP/1.1 400 Bad Request', { errcode: 'M_UNRECOGNIZED', error: 'The request is not valid HTTP/1.1 (HPE_INVALID_CONTENT_LENGTH)' },
      ]);
      expect(parseAnswer(await rawExchange(service.url, `POST ${path} HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n`))).toEqual([
        'HTTP/1.1 400 Bad Request', { errcode: 'M_UNRECOGNIZED', error: 'The request is not valid HTTP/1.1 (HPE_INVALID_HEADER_TOKEN)' },
      ]);
      expect(parseAnswer(await rawExchange(service.url, `POST ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`))).toEqual([
        'HTTP/1.1 431 Request Header Fields Too Large', { errcode: 'M_UNRECOGNIZED', error: 'The request headers are too large' },
      ]);
      expect((await ask(service, { latest_events: [latest()], limit: 1 })).status).toBe(200);
    });
  });
});
