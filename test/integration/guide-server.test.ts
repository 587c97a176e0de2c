/**
 * The room guide's server (browser/guide-server.mjs), run as `npm run neo4j:start` runs it, answered as Neo4j Browser
 * asks: a CORS preflight from the Browser's page, with the headers its Sentry instrumentation adds when the page
 * reached Sentry's script (seen on a fresh clone: "Request header field sentry-trace is not allowed by
 * Access-Control-Allow-Headers in preflight response", and the guide and style failed to load).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { freePorts } from '../helpers/free-ports';

let server: ChildProcess;
let port: number;

beforeAll(async () => {
  let neo4jHttpPort: number;
  [port, neo4jHttpPort] = (await freePorts(2)) as [number, number];
  server = spawn(process.execPath, [join(PROJECT_ROOT, 'browser', 'guide-server.mjs'), String(port), String(neo4jHttpPort)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let said = '';
    server.stderr!.on('data', (chunk: Buffer) => {
      said += chunk.toString();
      if (said.includes('guide: serving')) resolve();
    });
    server.once('exit', (code) => reject(new Error(`the guide server exited (${code}): ${said}`)));
  });
});

afterAll(() => {
  server?.kill();
});

it('allows the headers a preflight asks for, so the Browser fetches the guide and the style with Sentry on', async () => {
  const preflight = await fetch(`http://127.0.0.1:${port}/style.json`, {
    method: 'OPTIONS',
    headers: { Origin: 'http://127.0.0.1:7474', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'baggage,sentry-trace' },
  });
  expect([preflight.status, preflight.headers.get('access-control-allow-origin'), preflight.headers.get('access-control-allow-headers')]).toEqual([
    204, '*', 'baggage,sentry-trace',
  ]);
  const style = await fetch(`http://127.0.0.1:${port}/style.json`, { headers: { Origin: 'http://127.0.0.1:7474', 'sentry-trace': 'x', baggage: 'y' } });
  expect([style.status, style.headers.get('access-control-allow-origin')]).toEqual([200, '*']);
  expect(Object.keys((await style.json()) as object)).toContain('node');
});

it('allows the Browser\'s own headers on a preflight that names none', async () => {
  const preflight = await fetch(`http://127.0.0.1:${port}/guide.html`, { method: 'OPTIONS', headers: { Origin: 'http://127.0.0.1:7474' } });
  expect([preflight.status, preflight.headers.get('access-control-allow-headers')]).toEqual([204, 'pragma, cache-control, content-type, accept']);
});
