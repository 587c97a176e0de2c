/**
 * The request deadline (REQUEST_DEADLINE_MS) on a real listener: a request still waiting when it passes gets 503
 * M_UNAVAILABLE with Retry-After at the deadline, not when the work ends; the late answer is dropped without a
 * second response, an error or a crash, and the service goes on answering.
 */
import type { RequestHandler } from 'express';
import { generateSigningKey } from '../../src/core/signing';
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
  let finishWork: () => void = () => {};
  let workEnded = false;
  // The rate limits' place after authentication waits on this: a stand-in for work that does not end (a queue, a
  // Neo4j that accepts a query and does not answer); then the handler runs and its late answer is dropped.
  let entered: () => void = () => {};
  const waiting = new Promise<void>((resolve) => (entered = resolve));
  const stall: RequestHandler = (_req, _res, next) => {
    entered();
    finishWork = () => {
      workEnded = true;
      next();
    };
  };
  const service = await startTestService({ graph, rateLimit: [stall], requestDeadlineMs: 300, logger });
  try {
    const identity = generateSigningKey('deadline');
    await registerRoomKeys({ room_id: '!keys:us.test', room_version: '10', servers: new Map([['hs1.test', identity]]) }, service.keyStore, Date.now());
    const path = missingEventsPath('!nowhere:hs1.test');
    const started = performance.now();
    const slow = await signedPost({ url: service.url, path, origin: 'hs1.test', key: identity, destination: service.serverName, body: { latest_events: ['$a'] } });
    const ms = performance.now() - started;
    await waiting;
    expect([slow.status, slow.retryAfter, slow.json]).toEqual([
      503, '2', { errcode: 'M_UNAVAILABLE', error: 'The request was not answered within 300 ms; retry shortly' },
    ]);
    // Not before the deadline (the answer is the deadline's, not the work's, which has not ended).
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(workEnded).toBe(false);

    finishWork();
    const health = await rawRequest({ url: service.url, method: 'GET', path: '/health' });
    expect([health.status, health.json]).toEqual([200, { status: 'ok' }]);
    // Time for the late answer (the unknown room's 403, one small read) to reach the error middleware and be dropped.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const lines = () => logged.map((line) => JSON.parse(line) as { message: string; path?: string; status?: number; errcode?: string });
    expect(lines().filter((line) => line.message === 'request').map((line) => [line.path, line.status, line.errcode])).toEqual([
      [path, 503, 'M_UNAVAILABLE'],
      ['/health', 200, undefined],
    ]);
    // The deadline's 503 is logged as Neo4j-unavailable errors are; the late answer adds nothing.
    expect(lines().filter((line) => line.message === 'request failed').map((line) => line.path)).toEqual([path]);
  } finally {
    await service.close();
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
