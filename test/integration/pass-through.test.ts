/**
 * The pass-through to the homeserver (issue 18, "Never answer wrong because we are behind"): a get_missing_events
 * request naming a latest event we do not hold, or hold only as a placeholder, goes unchanged to the homeserver
 * (a real HTTPS listener on loopback with the test certificate, which records what it receives) and its answer
 * comes back unchanged; a request whose latest events we all hold is answered from the graph; without an upstream
 * the service answers as before; an upstream that is down or silent gets an exact Matrix error; only requests that
 * passed our authentication, validation and rate limits are passed on; and /metrics counts them.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { generateSigningKey } from '../../src/core/signing';
import { signRequest } from '../../src/core/x-matrix';
import { RoomBuilder } from '../../src/generator/room-builder';
import { createMetrics, type Metrics } from '../../src/http/metrics';
import { createPassThrough, TIMED_OUT_MESSAGE, UNREACHABLE_MESSAGE, type PassThrough } from '../../src/http/pass-through';
import { FederationRateLimiter } from '../../src/http/rate-limit';
import { federationRateLimit } from '../../src/http/rate-limit-middleware';
import { createLogger } from '../../src/logger';
import { registerRoomKeys } from '../../src/service/demo-room';
import type { Graph } from '../../src/store/neo4j';
import { startTestService, type TestService } from '../helpers/federation';
import { freePort } from '../helpers/free-ports';
import { importLines, openTestGraph } from '../helpers/graph';
import { queryGraph } from '../helpers/room-graph';

const TLS_DIR = join(__dirname, '..', 'fixtures', 'tls');
const ALICE = '@alice:hs1.test';
const identity = generateSigningKey('passthrough');
const logger = createLogger('error', true);

/** What the upstream received, each request as it arrived. */
interface Received {
  readonly method: string;
  readonly url: string;
  readonly authorization: string[];
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/** The homeserver's answer: odd spacing and a field of its own, so a re-encoded relay would show. */
const UPSTREAM_BODY = '{"events": [ {"event_id":"$from-upstream"} ] ,\n "upstream": true}';

let graph: Graph;
let room: RoomBuilder;
/** How the upstream answers: whole, or its headers and half the body, then nothing more, or then a closed connection. */
type Mode = 'whole' | 'stall-mid-body' | 'close-mid-body';
let upstream: {
  server: Server;
  url: string;
  received: Received[];
  answer: { status: number; headers: Record<string, string>; body: string; mode: Mode };
};
let silent: { server: Server; url: string; sockets: Set<Socket> };
let metrics: Metrics;
const passThroughs: PassThrough[] = [];
/**
 * With the recording upstream; with no upstream; with one where nothing listens; with one that never answers; with
 * the recording upstream and a 300 ms budget; with the recording upstream and a 100-byte cap on answers.
 */
let service: TestService;
let plain: TestService;
let down: TestService;
let stalled: TestService;
let hurried: TestService;
let capped: TestService;

beforeAll(async () => {
  graph = await openTestGraph();
  room = new RoomBuilder('10', 'pass-through/room');
  room.create(ALICE);
  room.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  for (let i = 0; i < 8; i++) room.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: `m${i}` } });
  // Held: events 0-6 and 8. Event 7 only as a placeholder (event 8 names it), event 9 not at all (we are behind).
  const { problems } = await importLines(graph, room.events.filter((_event, i) => i !== 7 && i !== 9));
  expect(problems).toEqual([]);

  const tls = { key: readFileSync(join(TLS_DIR, 'localhost.key')), cert: readFileSync(join(TLS_DIR, 'localhost.crt')) };
  const received: Received[] = [];
  const answer = { status: 200, headers: { 'content-type': 'application/json' } as Record<string, string>, body: UPSTREAM_BODY, mode: 'whole' as Mode };
  const recording = createServer(tls, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method!,
        url: req.url!,
        authorization: req.headersDistinct.authorization ?? [],
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks),
      });
      if (answer.mode === 'whole') return void res.writeHead(answer.status, answer.headers).end(answer.body);
      res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
      res.write(answer.body.slice(0, answer.body.length / 2));
      if (answer.mode === 'close-mid-body') setTimeout(() => res.socket?.destroy(), 50);
    });
  });
  upstream = { server: recording, url: await listening(recording), received, answer };
  const sockets = new Set<Socket>();
  const quiet = createServer(tls, () => {}); // reads the request, never answers
  quiet.on('secureConnection', (socket: Socket) => sockets.add(socket));
  silent = { server: quiet, url: await listening(quiet), sockets };

  metrics = createMetrics();
  const through = (url: string, timeoutMs = 5_000, maxAnswerBytes?: number) => {
    const created = createPassThrough({ url, verifyTls: false, timeoutMs, maxAnswerBytes, metrics: metrics.passThrough, logger });
    passThroughs.push(created);
    return created;
  };
  service = await startTestService({ graph, metrics, passThrough: through(upstream.url) });
  plain = await startTestService({ graph });
  down = await startTestService({ graph, metrics, passThrough: through(`https://127.0.0.1:${await freePort()}`) });
  stalled = await startTestService({ graph, metrics, passThrough: through(silent.url, 300) });
  hurried = await startTestService({ graph, metrics, passThrough: through(upstream.url, 300) });
  capped = await startTestService({ graph, metrics, passThrough: through(upstream.url, 5_000, 100) });
  for (const s of [service, plain, down, stalled, hurried, capped]) {
    await registerRoomKeys({ room_id: '!keys:us.test', room_version: '10', servers: new Map([['hs1.test', identity]]) }, s.keyStore, Date.now());
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([service, plain, down, stalled, hurried, capped].map((s) => s?.close()));
  for (const p of passThroughs) p.close();
  upstream?.server.closeAllConnections();
  for (const socket of silent?.sockets ?? []) socket.destroy();
  await Promise.all([upstream?.server, silent?.server].map((s) => new Promise((resolve) => (s ? s.close(resolve) : resolve(undefined)))));
  await graph?.driver.close();
});

function listening(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`https://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

interface Sent {
  readonly path: string;
  readonly body: string;
  readonly authorization: string[];
  readonly contentType: string;
}

/**
 * A request as a homeserver sends it: `rawBody` as it is (spacing and key order kept), signed over its parsed
 * content and the path as written (here with a lower-case percent-encoding, which nothing may re-encode), with the
 * X-Matrix header sent `copies` times.
 */
function prepare(rawBody: string, copies = 1, roomId = room.roomId): Sent {
  const path = `/_matrix/federation/v1/get_missing_events/${encodeURIComponent(roomId).replace('%3A', '%3a')}`;
  const header = signRequest({ method: 'POST', uri: path, origin: 'hs1.test', destination: 'us.test', content: JSON.parse(rawBody), key: identity });
  return { path, body: rawBody, authorization: Array.from({ length: copies }, () => header), contentType: 'application/json; charset=utf-8' };
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

function send(target: TestService, sent: Sent): Promise<Reply> {
  const url = new URL(target.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: Number(url.port), method: 'POST', path: sent.path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setHeader('authorization', sent.authorization);
    req.setHeader('content-type', sent.contentType);
    req.on('error', reject);
    req.end(sent.body);
  });
}

const id = (i: number) => room.events[i]!.event_id;

/** The same request, received by the upstream byte for byte: method, URI, body, every Authorization header, Content-Type. */
function expectForwarded(received: Received, sent: Sent): void {
  expect(received.method).toBe('POST');
  expect(received.url).toBe(sent.path);
  expect(received.body.equals(Buffer.from(sent.body))).toBe(true);
  expect(received.authorization).toEqual(sent.authorization);
  expect(received.contentType).toBe(sent.contentType);
}

function resetUpstream(): void {
  upstream.received.length = 0;
  upstream.answer.status = 200;
  upstream.answer.headers = { 'content-type': 'application/json' };
  upstream.answer.body = UPSTREAM_BODY;
  upstream.answer.mode = 'whole';
}

describe('with an upstream', () => {
  beforeEach(resetUpstream);

  it('passes a request naming a latest event it does not hold to the homeserver, and relays the answer', async () => {
    const sent = prepare(`{ "limit": 5,"latest_events" : ["${id(9)}"],  "earliest_events": [], "min_depth": 0 }`, 2);
    const reply = await send(service, sent);
    expect([reply.status, reply.headers['content-type'], reply.text]).toEqual([200, 'application/json', UPSTREAM_BODY]);
    expect(upstream.received).toHaveLength(1);
    expectForwarded(upstream.received[0]!, sent);
  });

  it('passes a request naming an event it holds only as a placeholder, even beside one it holds', async () => {
    const sent = prepare(`{"latest_events":["${id(5)}","${id(7)}"],"limit":3}`);
    const reply = await send(service, sent);
    expect([reply.status, reply.text]).toEqual([200, UPSTREAM_BODY]);
    expect(upstream.received).toHaveLength(1);
    expectForwarded(upstream.received[0]!, sent);
  });

  it('passes a request for a room it does not know (one joined since the last import)', async () => {
    const sent = prepare(`{"latest_events":["$elsewhere"]}`, 1, '!joined-since:hs1.test');
    const reply = await send(service, sent);
    expect([reply.status, reply.text]).toEqual([200, UPSTREAM_BODY]);
    expect(upstream.received).toHaveLength(1);
    expectForwarded(upstream.received[0]!, sent);
  });

  it("relays the homeserver's error answers as they are, Retry-After included", async () => {
    upstream.answer.status = 429;
    upstream.answer.headers = { 'content-type': 'application/json', 'retry-after': '7' };
    upstream.answer.body = '{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":6500}';
    const reply = await send(service, prepare(`{"latest_events":["${id(9)}"]}`));
    expect([reply.status, reply.headers['content-type'], reply.headers['retry-after'], reply.text]).toEqual([
      429, 'application/json', '7', upstream.answer.body,
    ]);
  });

  it('answers from the graph when it holds every latest event, and sends the homeserver nothing', async () => {
    const reply = await send(service, prepare(`{"latest_events":["${id(5)}"],"limit":10}`));
    expect(reply.status).toBe(200);
    expect((JSON.parse(reply.text) as { events: { event_id?: string }[] }).events.map((event) => JSON.stringify(event))).toEqual(
      room.events.slice(0, 5).map((event) => JSON.stringify(event.pdu)),
    );
    expect(upstream.received).toEqual([]);
  });

  it('passes on nothing that fails authentication or validation', async () => {
    const unsigned = { ...prepare(`{"latest_events":["${id(9)}"]}`), authorization: ['X-Matrix origin="hs1.test",destination="us.test",key="ed25519:x",sig="AAAA"'] };
    const noAuth = await send(service, unsigned);
    expect([noAuth.status, JSON.parse(noAuth.text).errcode]).toEqual([401, 'M_UNAUTHORIZED']);
    const invalid = await send(service, prepare(`{"latest_events":["${id(9)}"],"limit":0}`));
    expect([invalid.status, JSON.parse(invalid.text).errcode]).toEqual([400, 'M_INVALID_PARAM']);
    const notAnId = await send(service, prepare(`{"latest_events":["not an event id"]}`));
    expect([notAnId.status, JSON.parse(notAnId.text).errcode]).toEqual([400, 'M_INVALID_PARAM']);
    expect(upstream.received).toEqual([]);
  });

  it('counts a passed request against the rate limits like any other', async () => {
    const limited = await startTestService({
      graph,
      passThrough: passThroughs[0],
      rateLimit: [federationRateLimit(new FederationRateLimiter({ windowMs: 60_000, sleepLimit: 10, sleepDelayMs: 0, rejectLimit: 1, concurrent: 1 }))],
    });
    try {
      await registerRoomKeys({ room_id: '!keys:us.test', room_version: '10', servers: new Map([['hs1.test', identity]]) }, limited.keyStore, Date.now());
      const first = await send(limited, prepare(`{"latest_events":["${id(9)}"]}`));
      const second = await send(limited, prepare(`{"latest_events":["${id(9)}"]}`));
      expect([first.status, second.status, JSON.parse(second.text).errcode]).toEqual([200, 429, 'M_LIMIT_EXCEEDED']);
      expect(upstream.received).toHaveLength(1);
    } finally {
      await limited.close();
    }
  });
});

describe('while a follower has not settled a room yet', () => {
  const SOURCE = 'pass-through-test settling';
  // A room hs1.test has no member in: its current state refuses hs1.test (403) until a join is settled.
  const other = new RoomBuilder('10', 'pass-through/settling');
  beforeAll(async () => {
    other.create('@carol:hs3.test');
    other.add({ type: 'm.room.member', state_key: '@carol:hs3.test', sender: '@carol:hs3.test', content: { membership: 'join' } });
    other.add({ type: 'm.room.message', sender: '@carol:hs3.test', content: { msgtype: 'm.text', body: 'before' } });
    expect((await importLines(graph, other.events)).problems).toEqual([]);
  });
  beforeEach(resetUpstream);
  afterEach(() => queryGraph(graph, 'MATCH (cursor:FollowCursor {source: $source}) DETACH DELETE cursor', { source: SOURCE }));
  const settling = (rooms: string[]) =>
    queryGraph(graph, 'MERGE (cursor:FollowCursor {source: $source}) SET cursor.unsettled = $rooms', { source: SOURCE, rooms });
  const latest = () => prepare(`{"latest_events":["${other.events[2]!.event_id}"],"limit":5}`, 1, other.roomId);

  it('passes on a request its room access refuses while the room is settling, as the homeserver may have let it in', async () => {
    await settling(['!another:hs3.test', other.roomId]);
    const sent = latest();
    const reply = await send(service, sent);
    expect([reply.status, reply.text]).toEqual([200, UPSTREAM_BODY]);
    expect(upstream.received).toHaveLength(1);
    expectForwarded(upstream.received[0]!, sent);
  });

  it('refuses it itself once the room is settled, and without an upstream', async () => {
    const settled = await send(service, latest());
    expect([settled.status, JSON.parse(settled.text)]).toEqual([403, { errcode: 'M_FORBIDDEN', error: `hs1.test has no joined member in ${other.roomId}` }]);
    await settling([other.roomId]);
    const alone = await send(plain, latest());
    expect([alone.status, JSON.parse(alone.text).errcode]).toEqual([403, 'M_FORBIDDEN']);
    expect(upstream.received).toEqual([]);
  });

  it('answers from the graph a request its room access allows, settling or not', async () => {
    await settling([room.roomId]);
    const reply = await send(service, prepare(`{"latest_events":["${id(5)}"],"limit":2}`));
    expect(reply.status).toBe(200);
    expect((JSON.parse(reply.text) as { events: unknown[] }).events.map((event) => JSON.stringify(event))).toEqual(
      room.events.slice(3, 5).map((event) => JSON.stringify(event.pdu)),
    );
    expect(upstream.received).toEqual([]);
  });
});

describe('without an upstream', () => {
  it('answers as before: unknown and placeholder latest events are ignored, an unknown room is 403', async () => {
    const unknown = await send(plain, prepare(`{"latest_events":["${id(9)}"]}`));
    expect([unknown.status, unknown.text]).toEqual([200, '{"events":[]}']);
    const placeholder = await send(plain, prepare(`{"latest_events":["${id(7)}"]}`));
    expect([placeholder.status, placeholder.text]).toEqual([200, '{"events":[]}']);
    const elsewhere = await send(plain, prepare(`{"latest_events":["$elsewhere"]}`, 1, '!joined-since:hs1.test'));
    expect([elsewhere.status, JSON.parse(elsewhere.text)]).toEqual([
      403, { errcode: 'M_FORBIDDEN', error: 'hs1.test has no joined member in !joined-since:hs1.test' },
    ]);
  });
});

describe('an upstream that fails', () => {
  beforeEach(resetUpstream);

  it('answers 502 M_UNAVAILABLE when nothing listens there', async () => {
    const reply = await send(down, prepare(`{"latest_events":["${id(9)}"]}`));
    expect([reply.status, reply.headers['retry-after'], JSON.parse(reply.text)]).toEqual([
      502, '2', { errcode: 'M_UNAVAILABLE', error: UNREACHABLE_MESSAGE },
    ]);
  });

  it('answers 504 M_UNAVAILABLE when it does not answer within the time budget', async () => {
    const reply = await send(stalled, prepare(`{"latest_events":["${id(9)}"]}`));
    expect([reply.status, reply.headers['retry-after'], JSON.parse(reply.text)]).toEqual([
      504, '2', { errcode: 'M_UNAVAILABLE', error: TIMED_OUT_MESSAGE },
    ]);
  });

  it('answers 504 when the answer stops half-way, and 502 when its connection closes half-way: never a hang', async () => {
    upstream.answer.mode = 'stall-mid-body';
    const stalledBody = await send(hurried, prepare(`{"latest_events":["${id(9)}"]}`));
    expect([stalledBody.status, JSON.parse(stalledBody.text)]).toEqual([504, { errcode: 'M_UNAVAILABLE', error: TIMED_OUT_MESSAGE }]);
    upstream.answer.mode = 'close-mid-body';
    const cut = await send(service, prepare(`{"latest_events":["${id(9)}"]}`));
    expect([cut.status, JSON.parse(cut.text)]).toEqual([502, { errcode: 'M_UNAVAILABLE', error: UNREACHABLE_MESSAGE }]);
  });

  it('answers 502 for an answer larger than the cap', async () => {
    const reply = await send(capped, prepare(`{"latest_events":["${id(9)}"]}`));
    expect(UPSTREAM_BODY.length).toBeLessThan(100);
    upstream.answer.body = `{"events":[],"padding":"${'x'.repeat(200)}"}`;
    const large = await send(capped, prepare(`{"latest_events":["${id(9)}"]}`));
    expect([reply.status, reply.text, large.status, JSON.parse(large.text)]).toEqual([
      200, UPSTREAM_BODY, 502, { errcode: 'M_UNAVAILABLE', error: UNREACHABLE_MESSAGE },
    ]);
  });
});

it('counts the requests passed through by outcome, and their latency', async () => {
  const exposition = (await (await fetch(`${service.opsUrl}/metrics`)).text()).split('\n');
  // Answered: the unknown event, the placeholder, the unknown room, the 429 relayed, the rate-limited test's first
  // request (its service has metrics of its own, but the same pass-through), the one refused while its room was
  // settling, and the capped one under the cap;
  // failed: nothing listening, the connection closed half-way, the answer over the cap; timed out: the silent
  // upstream and the answer that stopped half-way.
  expect(exposition.filter((line) => line.startsWith('maxtryx_pass_through_requests_total{'))).toEqual([
    'maxtryx_pass_through_requests_total{outcome="answered"} 7',
    'maxtryx_pass_through_requests_total{outcome="failed"} 3',
    'maxtryx_pass_through_requests_total{outcome="timed_out"} 2',
  ]);
  expect(exposition).toContain('maxtryx_pass_through_duration_seconds_count 12');
  // A homeserver's unavailability is not Neo4j's.
  expect(exposition).toContain('maxtryx_neo4j_unavailable_total 0');
});
