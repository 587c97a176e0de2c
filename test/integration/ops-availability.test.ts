/**
 * The availability gate's recovery (src/store/availability.ts) when Neo4j is slow rather than gone, as on a busy
 * host, through a TCP proxy in front of the test Neo4j that can hold back or drop what Neo4j sends. Once reads are
 * stopped, they must resume by themselves: when every answer takes longer than the probe used to wait for one (a
 * slow answer counts when it comes), and when the probe's own query is never answered (it is given up for a new
 * one). Waits are "until, with a generous cap".
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import neo4j, { Neo4jError } from 'neo4j-driver';
import { Neo4jAvailability } from '../../src/store/availability';
import { EventStore } from '../../src/store/event-store';
import { readOnce, type Graph } from '../../src/store/neo4j';
import { testNeo4j } from '../helpers/neo4j';

/** What the proxy does with what Neo4j sends on a connection: pass it, hold each chunk back, or drop it. */
type Mode = { readonly kind: 'pass' } | { readonly kind: 'delay'; readonly ms: number } | { readonly kind: 'drop' };

interface Proxy {
  readonly server: Server;
  readonly port: number;
  /** The mode of connections opened from now on. */
  next: Mode;
  /** The connections open now, each with its own mode (changeable). */
  readonly connections: { mode: Mode; client: Socket; upstream: Socket }[];
}

async function startProxy(): Promise<Proxy> {
  const target = new URL(testNeo4j().uri.replace(/^[a-z+]+:/, 'http:'));
  const proxy: Omit<Proxy, 'server' | 'port'> & { server?: Server; port?: number } = { next: { kind: 'pass' }, connections: [] };
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    const connection = { mode: proxy.next, client, upstream };
    proxy.connections.push(connection);
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      const mode = connection.mode;
      if (mode.kind === 'pass') client.write(chunk);
      else if (mode.kind === 'delay') setTimeout(() => client.writable && client.write(chunk), mode.ms);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(proxy, { server, port: (server.address() as { port: number }).port }) as Proxy;
}

function stopProxy(proxy: Proxy | undefined): Promise<void> {
  if (!proxy) return Promise.resolve();
  for (const { client, upstream } of proxy.connections) {
    client.destroy();
    upstream.destroy();
  }
  return new Promise((resolve) => proxy.server.close(() => resolve()));
}

/** A Graph through the proxy with the service's driver settings (src/store/neo4j.ts) and the given gate options. */
function graphThrough(proxy: Proxy, probeAbandonMs?: number): Graph {
  const { user, password, database } = testNeo4j();
  const driver = neo4j.driver(`bolt://127.0.0.1:${proxy.port}`, user ? neo4j.auth.basic(user, password) : undefined, {
    connectionTimeout: 2_000,
    connectionAcquisitionTimeout: 2_000,
  });
  const availability = new Neo4jAvailability(driver, { database, queryTimeoutMs: 5_000, probeAbandonMs });
  return { driver, database, queryTimeoutMs: 5_000, availability };
}

const RETURN_1 = 'RETURN 1 AS one';
const GONE = new Neo4jError('Neo4j went away (test)', 'ServiceUnavailable', '', '');
/** Generous: on an idle host both cases recover in a few seconds. */
const RECOVERY_CAP_MS = 90_000;

/** Until the gate lets reads through again, at most capMs; whether it did. */
async function readsResume(graph: Graph, capMs: number): Promise<boolean> {
  const from = performance.now();
  for (;;) {
    try {
      graph.availability!.assertUp();
      return true;
    } catch {
      if (performance.now() - from > capMs) return false;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

let proxy: Proxy | undefined;
let graph: Graph | undefined;

afterEach(async () => {
  await graph?.driver.close().catch(() => {});
  await stopProxy(proxy);
  graph = undefined;
  proxy = undefined;
});

it('lets reads through again when every answer of Neo4j takes 3 s (the probe used to give up on answers after 2 s)', async () => {
  proxy = await startProxy();
  graph = graphThrough(proxy);
  new EventStore(graph); // registers the walk as a warm-up, as the service does
  await graph.availability!.warmUp();
  expect(await readOnce(graph, RETURN_1, {})).toHaveLength(1);

  for (const connection of proxy.connections) connection.mode = { kind: 'delay', ms: 3_000 };
  proxy.next = { kind: 'delay', ms: 3_000 };
  graph.availability!.failed(GONE);
  expect(() => graph!.availability!.assertUp()).toThrow('Neo4j has been unavailable for');

  expect(await readsResume(graph, RECOVERY_CAP_MS)).toBe(true);
  // Slow, but answering: a read gets its row.
  expect((await readOnce<{ one: unknown }>(graph, RETURN_1, {})).map((row) => neo4j.integer.toNumber(row.one as number))).toEqual([1]);
}, 150_000);

it('gives up a probe whose query is never answered and lets reads through once a new one gets an answer', async () => {
  proxy = await startProxy();
  graph = graphThrough(proxy, 2_000);
  await graph.availability!.warmUp();
  expect(await readOnce(graph, RETURN_1, {})).toHaveLength(1);

  // The pooled connection the probe will take swallows what Neo4j answers; connections opened later work.
  for (const connection of proxy.connections) connection.mode = { kind: 'drop' };
  graph.availability!.failed(GONE);
  expect(await readsResume(graph, RECOVERY_CAP_MS)).toBe(true);
  expect(await readOnce(graph, RETURN_1, {})).toHaveLength(1);
}, 150_000);
