/**
 * SIGTERM with requests in flight: the real service (node dist/src/main.js) stops accepting, answers every request
 * it had received, closes its driver and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { generateSigningKey } from '../../src/core/signing';
import { signRequest } from '../../src/core/x-matrix';
import { RoomBuilder } from '../../src/generator/room-builder';
import { PROJECT_ROOT } from '../../src/paths';
import { registerRoomKeys } from '../../src/service/demo-room';
import type { Graph } from '../../src/store/neo4j';
import { Neo4jServerKeyStore } from '../../src/store/server-key-store';
import { missingEventsPath } from '../helpers/federation';
import { importLines, openTestGraph } from '../helpers/graph';
import { freePort } from '../helpers/free-ports';
import { testNeo4j } from '../helpers/neo4j';
import { buildDist } from '../helpers/build';

const ALICE = '@alice:hs1.test';
let graph: Graph;
let dir: string;

beforeAll(async () => {
  graph = await openTestGraph();
  dir = mkdtempSync(join(tmpdir(), 'maxtryx-shutdown-'));
  buildDist();
}, 180_000);

afterAll(async () => {
  await graph.driver.close();
  rmSync(dir, { recursive: true, force: true });
});

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

it('answers all 30 requests in flight at SIGTERM (their bodies sent after it), refuses new connections, and exits 0', async () => {
  const room = new RoomBuilder('10', 'shutdown/room');
  room.create(ALICE);
  room.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  for (let i = 0; i < 30; i++) room.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: `m${i}` } });
  expect((await importLines(graph, room.events)).problems).toEqual([]);
  const identity = generateSigningKey('shut1');
  await registerRoomKeys({ room_id: '!keys:us.test', room_version: '10', servers: new Map([['hs1.test', identity]]) }, new Neo4jServerKeyStore(graph), Date.now());

  const { uri, user, password, database } = testNeo4j();
  const port = await freePort();
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'src', 'main.js')], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, NEO4J_URI: uri, NEO4J_USER: user || '', NEO4J_PASSWORD: password, NEO4J_DATABASE: database ?? '',
      PORT: String(port), OPS_PORT: '0', SERVER_NAME: 'us.test', SIGNING_KEY_PATH: join(dir, 'signing.key'), LOG_LEVEL: 'info',
      // One origin sends all 30 at once: let the rate limits let them through.
      RC_FEDERATION_SLEEP_LIMIT: '1000', RC_FEDERATION_REJECT_LIMIT: '1000', RC_FEDERATION_CONCURRENT: '100',
    },
  });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exit = exited(child);
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  while (!log.includes('"listening"')) {
    if (Date.now() - started > 30_000) throw new Error(`the service did not start:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  // Thirty requests, each from a different latest event, certainly in flight at SIGTERM: each sends its headers and
  // half its body, SIGTERM comes once all thirty are under way, and the other halves only after it.
  const latest = room.events.slice(2).map((event) => event.event_id);
  const path = missingEventsPath(room.roomId);
  const requests = latest.map((id) => {
    const content = { latest_events: [id], limit: 20 };
    const body = JSON.stringify(content);
    const authorization = signRequest({ method: 'POST', uri: path, origin: 'hs1.test', destination: 'us.test', content, key: identity });
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, agent: false, headers: {
      'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization,
    } });
    const answered = new Promise<number | string>((resolve) => {
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', (error) => resolve(`failed: ${error.message}`));
    });
    req.write(body.slice(0, body.length / 2));
    return { answered, finish: () => req.end(body.slice(body.length / 2)) };
  });
  // Every connection accepted and its headers read: the service has 30 requests waiting for their bodies.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const request of requests) request.finish();
  const statuses = await Promise.all(requests.map((request) => request.answered));
  expect(statuses).toEqual(latest.map(() => 200));
  expect(await exit).toBe(0);
  expect(log).toContain('"shutting down"');
  // The listener is gone: a new connection is refused.
  await expect(fetch(`${url}/health`)).rejects.toThrow();
}, 120_000);
