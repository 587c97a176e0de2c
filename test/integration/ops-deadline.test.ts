/**
 * The request deadline (REQUEST_DEADLINE_MS) on a real listener: a request still waiting when it passes gets 503
 * M_UNAVAILABLE with Retry-After at the deadline, not when the work ends; the late answer is dropped without a
 * second response, an error or a crash, and the service goes on answering.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSigningKey } from '../../src/core/signing';
import { createMetrics } from '../../src/http/metrics';
import { createPassThrough } from '../../src/http/pass-through';
import { createLogger } from '../../src/logger';
import { registerRoomKeys } from '../../src/service/demo-room';
import type { Graph } from '../../src/store/neo4j';
import { missingEventsPath, rawRequest, signedPost, startTestService } from '../helpers/federation';
import { openTestGraph } from '../helpers/graph';
import { Writable } from 'node:stream';

let graph: Graph;

beforeAll(async () => {
  graph = await openTestGraph();
});

afterAll(async () => {
  await graph?.driver.close();
});

it('answers 503 M_UNAVAILABLE at the deadline while the work goes on, and drops the late answer quietly', async () => {
  const logged: string[] = [];
  const logger = createLogger('info', false, new Writable({ write: (chunk, _encoding, done) => void (logged.push(String(chunk)), done()) }));
  // The work: a pass-through to a homeserver that holds its answer until told (a stand-in for any work that outlasts
  // the deadline: a slow homeserver, a queue, a Neo4j that accepts a query and does not answer). Its budget is
  // longer than the deadline here on purpose (the configuration refuses that), so its answer comes late.
  let received: () => void = () => {};
  const arrived = new Promise<void>((resolve) => (received = resolve));
  let finishWork: () => void = () => {};
  let workEnded = false;
  const homeserver = createServer((req, res) => {
    req.resume();
    received();
    finishWork = () => {
      workEnded = true;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"events":[]}');
    };
  });
  await new Promise<void>((resolve) => homeserver.listen(0, '127.0.0.1', resolve));
  const metrics = createMetrics();
  const passThrough = createPassThrough({
    url: `http://127.0.0.1:${(homeserver.address() as AddressInfo).port}`, verifyTls: true, timeoutMs: 30_000, logger, metrics: metrics.passThrough,
  });
  const service = await startTestService({ graph, passThrough, metrics, requestDeadlineMs: 300, logger });
  try {
    const identity = generateSigningKey('deadline');
    await registerRoomKeys({ room_id: '!keys:us.test', room_version: '10', servers: new Map([['hs1.test', identity]]) }, service.keyStore, Date.now());
    // A room we do not hold: passed through.
    const path = missingEventsPath('!nowhere:hs1.test');
    const started = performance.now();
    const slow = await signedPost({ url: service.url, path, origin: 'hs1.test', key: identity, destination: service.serverName, body: { latest_events: ['$a'] } });
    const ms = performance.now() - started;
    await arrived;
    expect([slow.status, slow.retryAfter, slow.json]).toEqual([
      503, '2', { errcode: 'M_UNAVAILABLE', error: 'The request was not answered within 300 ms; retry shortly' },
    ]);
    // Not before the deadline, and not the work's answer: that has not come yet.
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(workEnded).toBe(false);

    finishWork();
    // The late answer reaches the pass-through, which finds the request answered and drops it.
    const lines = () => logged.map((line) => JSON.parse(line) as { message: string; path?: string; status?: number; errcode?: string });
    const exposition = async () => (await (await fetch(`${service.opsUrl}/metrics`)).text()).split('\n');
    const until = performance.now() + 30_000;
    while (!(await exposition()).includes('maxtryx_pass_through_requests_total{outcome="answered"} 1') && performance.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await exposition()).toContain('maxtryx_pass_through_requests_total{outcome="answered"} 1');
    const health = await rawRequest({ url: service.url, method: 'GET', path: '/health' });
    expect([health.status, health.json]).toEqual([200, { status: 'ok' }]);
    expect(lines().filter((line) => line.message === 'request').map((line) => [line.path, line.status, line.errcode])).toEqual([
      [path, 503, 'M_UNAVAILABLE'],
      ['/health', 200, undefined],
    ]);
    // The deadline's 503 is logged as Neo4j-unavailable errors are; the late answer adds nothing.
    expect(lines().filter((line) => line.message === 'request failed').map((line) => line.path)).toEqual([path]);
  } finally {
    await service.close();
    passThrough.close();
    homeserver.closeAllConnections();
    await new Promise((resolve) => homeserver.close(resolve));
  }
});

it('does nothing to a request answered in time', async () => {
  const logged: string[] = [];
  const logger = createLogger('info', false, new Writable({ write: (chunk, _encoding, done) => void (logged.push(String(chunk)), done()) }));
  const service = await startTestService({ graph, requestDeadlineMs: 300, logger });
  try {
    const health = await rawRequest({ url: service.url, method: 'GET', path: '/health' });
    expect([health.status, health.json]).toEqual([200, { status: 'ok' }]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const lines = logged.map((line) => JSON.parse(line) as { message: string; path?: string; status?: number });
    expect(lines.map((line) => [line.message, line.path, line.status])).toEqual([['request', '/health', 200]]);
  } finally {
    await service.close();
  }
});
