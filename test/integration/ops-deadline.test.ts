/**
 * The request deadline (REQUEST_DEADLINE_MS) on a real listener: a request still waiting when it passes gets 503
 * M_UNAVAILABLE with Retry-After at the deadline, not when the work ends; the late answer is dropped without a
 * second response, an error or a crash, and the service goes on answering.
 */
import { createLogger } from '../../src/logger';
import type { Graph } from '../../src/store/neo4j';
import { rawRequest, startTestService } from '../helpers/federation';
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
  // /ready waits on this: a stand-in for a Neo4j that accepts a query and does not answer.
  const assertReady = () =>
    new Promise<void>((resolve) => {
      finishWork = () => {
        workEnded = true;
        resolve();
      };
    });
  const service = await startTestService({ graph, assertReady, requestDeadlineMs: 300, logger });
  try {
    const started = performance.now();
    const slow = await fetch(`${service.url}/ready`);
    const ms = performance.now() - started;
    expect([slow.status, slow.headers.get('retry-after'), await slow.json()]).toEqual([
      503, '2', { errcode: 'M_UNAVAILABLE', error: 'The request was not answered within 300 ms; retry shortly' },
    ]);
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1_000);
    expect(workEnded).toBe(false);

    finishWork();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const health = await rawRequest({ url: service.url, method: 'GET', path: '/health' });
    expect([health.status, health.json]).toEqual([200, { status: 'ok' }]);
    const lines = logged.map((line) => JSON.parse(line) as { message: string; path?: string; status?: number; errcode?: string });
    expect(lines.filter((line) => line.message === 'request').map((line) => [line.path, line.status, line.errcode])).toEqual([
      ['/ready', 503, 'M_UNAVAILABLE'],
      ['/health', 200, undefined],
    ]);
    // The deadline's 503 is logged as Neo4j-unavailable errors are; the late answer adds nothing.
    expect(lines.filter((line) => line.message === 'request failed').map((line) => line.path)).toEqual(['/ready']);
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
