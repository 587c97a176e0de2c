/**
 * The ops listener apart from the federation listener (issue 19 item 5): /ready and /metrics answer only on the ops
 * listener (404 M_UNRECOGNIZED on the federation one, like any unknown path), /health on both; /ready's reasons are
 * generic (no Neo4j address, no driver error) while the detail goes to the log; the readiness checks are a list
 * another part (the follower) can add to; a check that does not answer, or throws, makes /ready 503, not a hang.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger';
import { CHECK_FAILED, NOT_ANSWERED_IN_TIME } from '../../src/http/ops-app';
import { ROOM_GRAPH_NOT_READY, type ReadinessCheck } from '../../src/http/health';
import { openGraph, type Graph } from '../../src/store/neo4j';
import { missingEventsPath, rawRequest, startTestService, type TestService } from '../helpers/federation';
import { freePort } from '../helpers/free-ports';
import { openTestGraph } from '../helpers/graph';

let graph: Graph;

beforeAll(async () => {
  graph = await openTestGraph();
});

afterAll(async () => {
  await graph?.driver.close();
});

function capture() {
  const logged: string[] = [];
  const logger = createLogger('info', false, new Writable({ write: (chunk, _encoding, done) => void (logged.push(String(chunk)), done()) }));
  const lines = () => logged.map((line) => JSON.parse(line) as { level: string; message: string; error?: string; path?: string });
  return { logger, lines };
}

async function ready(service: TestService): Promise<[number, string | null, unknown]> {
  const reply = await fetch(`${service.opsUrl}/ready`);
  return [reply.status, reply.headers.get('retry-after'), await reply.json()];
}

it('serves /ready and /metrics on the ops listener only, /health on both', async () => {
  const service = await startTestService({ graph });
  try {
    for (const path of ['/ready', '/metrics']) {
      const federation = await rawRequest({ url: service.url, method: 'GET', path });
      expect([federation.status, federation.json]).toEqual([404, { errcode: 'M_UNRECOGNIZED', error: `Unrecognized request: GET ${path}` }]);
    }
    for (const url of [service.url, service.opsUrl]) {
      const health = await rawRequest({ url, method: 'GET', path: '/health' });
      expect([health.status, health.json]).toEqual([200, { status: 'ok' }]);
    }
    expect(await ready(service)).toEqual([200, null, { status: 'ready' }]);
    const metrics = await rawRequest({ url: service.opsUrl, method: 'GET', path: '/metrics' });
    expect(metrics.status).toBe(200);
    // The federation listener's two 404s and its /health, counted; the ops listener's own requests are not.
    expect(metrics.text.split('\n').filter((line) => line.startsWith('maxtryx_http_requests_total{'))).toEqual([
      'maxtryx_http_requests_total{route="unmatched",status="404",errcode="M_UNRECOGNIZED"} 2',
      'maxtryx_http_requests_total{route="/health",status="200",errcode=""} 1',
    ]);
    // The ops listener answers nothing else: no federation route, Matrix errors for the rest.
    const walk = await rawRequest({ url: service.opsUrl, method: 'POST', path: missingEventsPath('!a:hs1.test'), body: '{}' });
    expect([walk.status, walk.json]).toEqual([
      404, { errcode: 'M_UNRECOGNIZED', error: `Unrecognized request: POST ${missingEventsPath('!a:hs1.test')}` },
    ]);
    for (const path of ['/ready', '/metrics']) {
      const post = await rawRequest({ url: service.opsUrl, method: 'POST', path });
      expect([post.status, post.json]).toEqual([405, { errcode: 'M_UNRECOGNIZED', error: `POST is not allowed on ${path}` }]);
    }
  } finally {
    await service.close();
  }
});

it('answers /ready 503 with a generic reason while Neo4j cannot be reached, and logs the detail', async () => {
  const port = await freePort();
  const down = openGraph({ uri: `bolt://127.0.0.1:${port}` });
  const { logger, lines } = capture();
  const service = await startTestService({ graph, eventsGraph: down, logger });
  try {
    for (let i = 0; i < 3; i++) {
      const reply = await fetch(`${service.opsUrl}/ready`);
      const text = await reply.text();
      expect([reply.status, reply.headers.get('retry-after'), JSON.parse(text)]).toEqual([
        503, '2', { errcode: 'M_UNAVAILABLE', error: `Not ready: ${ROOM_GRAPH_NOT_READY}` },
      ]);
      expect(text).not.toContain(String(port));
      expect(text).not.toContain('127.0.0.1');
    }
    // The detail is ours to read, once when readiness is lost (not at every probe): the driver's error names the address.
    const notReady = lines().filter((line) => line.message === 'not ready: the room graph cannot be read');
    expect(notReady.map((line) => line.level)).toEqual(['warn']);
    expect(notReady[0]!.error).toContain(`127.0.0.1:${port}`);
  } finally {
    await service.close();
    await down.driver.close();
  }
});

it('asks every readiness check, including one added later; a check that does not answer or throws is not ready', async () => {
  const { logger, lines } = capture();
  let catchingUp = true;
  const follower: ReadinessCheck = async () => (catchingUp ? 'catching up with the homeserver' : undefined);
  const readiness: ReadinessCheck[] = [async () => undefined];
  const service = await startTestService({ graph, readiness, logger, readyTimeoutMs: 300 });
  try {
    expect(await ready(service)).toEqual([200, null, { status: 'ready' }]);
    readiness.push(follower);
    expect(await ready(service)).toEqual([503, '2', { errcode: 'M_UNAVAILABLE', error: 'Not ready: catching up with the homeserver' }]);
    catchingUp = false;
    expect(await ready(service)).toEqual([200, null, { status: 'ready' }]);

    // A check that never answers (a Neo4j that accepts a query and does not answer) and one that throws.
    readiness.push(() => new Promise<undefined>(() => {}));
    readiness.push(async () => {
      throw new Error('connect ECONNREFUSED 10.20.30.40:7687');
    });
    const [status, retryAfter, body] = await ready(service);
    expect([status, retryAfter, body]).toEqual([503, '2', { errcode: 'M_UNAVAILABLE', error: `Not ready: ${NOT_ANSWERED_IN_TIME}; ${CHECK_FAILED}` }]);
    expect(lines().filter((line) => line.message === 'not ready: a readiness check failed').map((line) => [line.level, line.error])).toEqual([
      ['warn', 'connect ECONNREFUSED 10.20.30.40:7687'],
    ]);
  } finally {
    await service.close();
  }
});
