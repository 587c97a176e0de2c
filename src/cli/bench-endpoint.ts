/**
 * npm run bench -- endpoint [--events 100000] [--seconds 10] [--concurrency 1,16,64] [--limit 20]
 *   The HTTP endpoint under load, as other servers call it: signed get_missing_events requests (keys known to the
 *   key cache, signatures verified on every request), visibility on, on a `shared` and a `joined` room of the same
 *   size, from hs4.test (the last of the room's servers to join). Prints requests/s, p50/p99 latency,
 *   errors and the process's RSS per room and concurrency, and the joined/shared ratios. The service and the load
 *   run in this one process, so the figures are for comparing rooms and versions, not a ceiling.
 */
import { request as httpRequest, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { signRequest } from '../core/x-matrix';
import { generateSigningKey, type SigningKey } from '../core/signing';
import { computeEventId } from '../core/event-hashes';
import { getRoomVersion } from '../core/room-versions';
import { keysFilePath, readKeysFile, type RoomKeys } from '../generator/keys-file';
import { writeRoom } from '../generator/write-room';
import { createApp } from '../http/app';
import { xMatrixAuth } from '../http/x-matrix-auth';
import { importSources } from '../importer/import-files';
import { createLogger } from '../logger';
import { registerRoomKeys } from '../service/demo-room';
import { EventStore } from '../store/event-store';
import type { Graph } from '../store/neo4j';
import { Neo4jServerKeyStore } from '../store/server-key-store';
import { KeyFetcher } from '../federation/key-fetcher';
import { ServerDiscovery } from '../federation/server-discovery';
import { createHttpsFetchJson, resolveSrv } from '../federation/https-client';

export interface EndpointBenchOptions {
  readonly events: number;
  readonly seconds: number;
  readonly concurrency: readonly number[];
  readonly limit: number;
  readonly dir: string;
  /** Tells rooms apart from those of another run (another version of this service) on the same Neo4j. */
  readonly tag?: string;
}

interface Shape {
  readonly path: string;
  readonly body: string;
  readonly authorization: string;
}

const ORIGIN = 'hs4.test';
const SERVER_NAME = 'bench.test';

export async function benchEndpoint(graph: Graph, options: EndpointBenchOptions): Promise<void> {
  const events = new EventStore(graph);
  const keyStore = new Neo4jServerKeyStore(graph);
  const logger = createLogger('error', true);
  const now = Date.now;
  const fetchJson = createHttpsFetchJson({ verifyTls: true, allowPrivateAddresses: false });
  const keyFetcher = new KeyFetcher(
    { fetchJson, discovery: new ServerDiscovery({ fetchJson, resolveSrv, now }), store: keyStore, now, logger },
    { trustedKeyServers: [], timeoutMs: 5_000 },
  );
  const app = createApp({
    missingEvents: { events, limits: { maxLimit: 20, maxLatestEvents: 256, maxEarliestEvents: 4096 } },
    server: { serverName: SERVER_NAME, signingKey: generateSigningKey('bench') },
    authenticate: xMatrixAuth({ serverName: SERVER_NAME, keyFetcher, now, logger }),
    logger,
    bodyLimitBytes: 1024 * 1024,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  // One key for hs2.test, told to the key cache as `npm start` tells it the demo servers' keys. Each generated room
  // has its own hs2.test key under the same key ID, and the cache keeps one per server; the service never checks
  // the PDUs' signatures, so which key signed the rooms does not matter.
  const identity = generateSigningKey('benchorigin');
  await registerRoomKeys({ room_id: '!bench:bench.test', room_version: '10', servers: new Map([[ORIGIN, identity]]) }, keyStore, Date.now());
  try {
    const results = new Map<string, Map<number, Figures>>();
    for (const visibility of ['shared', 'joined']) {
      const { keys, file } = await benchRoom(events, options, visibility);
      const shapes = await requestShapes(events, keys, file, identity, options.limit);
      const perConcurrency = new Map<number, Figures>();
      for (const concurrency of options.concurrency) {
        await load(port, shapes, Math.min(concurrency, 4), 1); // warm-up
        const figures = await load(port, shapes, concurrency, options.seconds);
        perConcurrency.set(concurrency, figures);
        console.log(
          `${visibility} room, ${options.events} events, limit ${options.limit}, concurrency ${concurrency}: ` +
            `${figures.rate.toFixed(0)} requests/s, p50 ${figures.p50.toFixed(2)} ms, p99 ${figures.p99.toFixed(2)} ms, ` +
            `${figures.errors} errors of ${figures.count}, RSS ${figures.rssMb.toFixed(0)} MB`,
        );
      }
      results.set(visibility, perConcurrency);
    }
    for (const concurrency of options.concurrency) {
      const shared = results.get('shared')!.get(concurrency)!;
      const joined = results.get('joined')!.get(concurrency)!;
      console.log(
        `joined/shared at concurrency ${concurrency}: p50 ${(joined.p50 / shared.p50).toFixed(2)}x, ` +
          `throughput ${(shared.rate / joined.rate).toFixed(2)}x lower`,
      );
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function benchRoom(events: EventStore, options: EndpointBenchOptions, historyVisibility: string): Promise<{ keys: RoomKeys; file: string }> {
  const name = `endpoint-${historyVisibility}-${options.events}${options.tag ? `-${options.tag}` : ''}`;
  const file = join(options.dir, `${name}.jsonl`);
  if (!existsSync(keysFilePath(file))) {
    await writeRoom({ events: options.events, roomVersion: '10', seed: `bench-${name}`, historyVisibility }, file);
  }
  const keys = readKeysFile(keysFilePath(file));
  if ((await events.latestEvent(keys.room_id)) === undefined) {
    process.stderr.write(`importing ${file}\n`);
    await importSources(events, [file]);
  }
  return { keys, file };
}

/**
 * A few hundred requests as a caller sends them: latest = one of the room's newest events, earliest = nothing, and
 * a quarter starting among the room's first events, where hs4.test was not in the room yet (so `joined` has
 * events to redact). Each is signed once: X-Matrix covers the method, path and body, so the same header serves every repeat.
 */
async function requestShapes(events: EventStore, keys: RoomKeys, file: string, key: SigningKey, limit: number): Promise<Shape[]> {
  const newest = (await events.latestEvent(keys.room_id))!;
  const path = `/_matrix/federation/v1/get_missing_events/${encodeURIComponent(keys.room_id)}`;
  const version = getRoomVersion(keys.room_version)!;
  const idOf = (pdu: string) => computeEventId(JSON.parse(pdu) as Record<string, unknown>, version)!;
  const recent = await events.walk({ room_id: keys.room_id, latest_events: [newest.event_id], earliest_events: [], min_depth: 0, limit: 20 });
  const recentStarts = [newest.event_id, ...recent.map(idOf)];
  const earlyStarts = (await firstLines(file, 30)).slice(10).map(idOf);
  const shapes: Shape[] = [];
  for (let i = 0; i < 200; i++) {
    const latest = i % 4 === 3 ? earlyStarts[i % earlyStarts.length]! : recentStarts[i % recentStarts.length]!;
    const content = { latest_events: [latest], earliest_events: [], limit, min_depth: 0 };
    const authorization = signRequest({ method: 'POST', uri: path, origin: ORIGIN, destination: SERVER_NAME, content, key });
    shapes.push({ path, body: JSON.stringify(content), authorization });
  }
  return shapes;
}

async function firstLines(file: string, count: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })) {
    lines.push(line);
    if (lines.length === count) break;
  }
  return lines;
}

interface Figures {
  readonly count: number;
  readonly errors: number;
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly rssMb: number;
}

async function load(port: number, shapes: readonly Shape[], concurrency: number, seconds: number): Promise<Figures> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let rss = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const shape = shapes[next++ % shapes.length]!;
      const sent = performance.now();
      const { status, text } = await post(agent, port, shape);
      latencies.push(performance.now() - sent);
      if (status !== 200) errors += 1;
      else if (!text.includes('"hashes"')) errors += 1;
      rss = Math.max(rss, process.memoryUsage().rss);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    errors,
    rate: latencies.length / elapsed,
    p50: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
    p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    rssMb: rss / 1024 / 1024,
  };
}

function post(agent: Agent, port: number, shape: Shape): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1', port, method: 'POST', path: shape.path, agent,
        headers: { 'content-type': 'application/json', authorization: shape.authorization, 'content-length': Buffer.byteLength(shape.body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(shape.body);
  });
}
