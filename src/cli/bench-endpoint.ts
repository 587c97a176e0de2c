/**
 * npm run bench -- endpoint [--events 100000] [--seconds 10] [--concurrency 1,16,64] [--limit 20]
 *   The HTTP endpoint under load, as other servers call it: signed get_missing_events requests (keys known to the
 *   key cache, signatures verified on every request), visibility on, on a `shared` and a `joined` room of the same
 *   size, from hs4.test (the last of the room's servers to join). Prints requests/s, p50/p99 latency,
 *   errors and the service's RSS per room and concurrency, and the joined/shared ratios. The service runs in a
 *   process of its own (bench-serve.ts); the load comes from this one, through autocannon, on the same machine.
 */
import { fork } from 'node:child_process';
import autocannon from 'autocannon';
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { signRequest } from '../core/x-matrix';
import { generateSigningKey, type SigningKey } from '../core/signing';
import { computeEventId } from '../core/event-hashes';
import { getRoomVersion } from '../core/room-versions';
import { keysFilePath, readKeysFile, type RoomKeys } from '../generator/keys-file';
import { writeRoom } from '../generator/write-room';
import { importSources } from '../importer/import-files';
import { registerRoomKeys } from '../service/demo-room';
import { EventStore } from '../store/event-store';
import { BENCH_SERVER_NAME } from './bench-serve';
import type { Graph } from '../store/neo4j';
import { Neo4jServerKeyStore } from '../store/server-key-store';
import { SERVICE_NODE_OPTIONS } from '../service/node-options';

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
const SERVER_NAME = BENCH_SERVER_NAME;

export interface EndpointFigures {
  readonly room: string;
  readonly concurrency: number;
  readonly requests: number;
  readonly errors: number;
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  /** The service process's RSS after the run and its peak so far, in MB. */
  readonly rssMb: number;
  readonly peakRssMb: number;
}

export async function benchEndpoint(graph: Graph, options: EndpointBenchOptions): Promise<EndpointFigures[]> {
  const events = new EventStore(graph);
  const keyStore = new Neo4jServerKeyStore(graph);
  // One key for hs4.test, told to the key cache as `npm start` tells it the demo servers' keys. Each generated room
  // has its own key for that server under the same key ID, and the cache keeps one per server; the service never
  // checks the PDUs' signatures, so which key signed the rooms does not matter.
  const identity = generateSigningKey('benchorigin');
  await registerRoomKeys({ room_id: '!bench:bench.test', room_version: '10', servers: new Map([[ORIGIN, identity]]) }, keyStore, Date.now());
  const service = await startService();
  const figures: EndpointFigures[] = [];
  try {
    for (const visibility of ['shared', 'joined']) {
      const { keys, file } = await benchRoom(events, options, visibility);
      const shapes = await requestShapes(events, keys, file, identity, options.limit);
      for (const concurrency of options.concurrency) {
        await load(service.port, shapes, concurrency, 5); // warm-up: the JIT of both processes, the caches
        const run = await load(service.port, shapes, concurrency, options.seconds);
        const { rss, peak } = await service.rss();
        const row: EndpointFigures = {
          room: visibility, concurrency, ...run, rssMb: rss / 1024 / 1024, peakRssMb: peak / 1024 / 1024,
        };
        figures.push(row);
        console.log(
          `${visibility} room, ${options.events} events, limit ${options.limit}, concurrency ${concurrency}: ` +
            `${row.rate.toFixed(0)} requests/s, p50 ${row.p50.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms, ` +
            `${row.errors} errors of ${row.requests}, service RSS ${row.rssMb.toFixed(0)} MB (peak ${row.peakRssMb.toFixed(0)} MB)`,
        );
      }
    }
    for (const concurrency of options.concurrency) {
      const shared = figures.find((row) => row.room === 'shared' && row.concurrency === concurrency)!;
      const joined = figures.find((row) => row.room === 'joined' && row.concurrency === concurrency)!;
      console.log(
        `joined/shared at concurrency ${concurrency}: p50 ${(joined.p50 / shared.p50).toFixed(2)}x, ` +
          `requests/s ${(joined.rate / shared.rate).toFixed(2)}x`,
      );
    }
  } finally {
    await service.stop();
  }
  return figures;
}

export interface BenchService {
  readonly port: number;
  rss(): Promise<{ rss: number; peak: number }>;
  stop(): Promise<void>;
}

/**
 * Forks the service (bench-serve.js) with this process's environment, so it uses the same Neo4j; the endpoint
 * benchmark and the soak both measure it so.
 */
export async function startService(): Promise<BenchService> {
  // The options the service ships with, then BENCH_SERVICE_NODE_ARGS: more for the service alone, e.g. --cpu-prof
  // to profile it under load.
  const execArgv = [...SERVICE_NODE_OPTIONS, ...(process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = fork(join(__dirname, 'bench-serve.js'), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(key: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (!(key in message)) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as T);
      };
      const onExit = (code: number | null) => reject(new Error(`the service exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { port } = await next<{ port: number }>('port');
  return {
    port,
    rss: () => {
      const answer = next<{ rss: number; peak: number }>('rss');
      child.send('rss');
      return answer;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
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

interface LoadFigures {
  readonly requests: number;
  readonly errors: number;
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
}

/**
 * `concurrency` keep-alive connections sending the shapes in turn for `seconds`, through autocannon (its latency
 * histogram has microsecond resolution here). An answer other than 200 with PDUs counts as an error.
 */
async function load(port: number, shapes: readonly Shape[], concurrency: number, seconds: number): Promise<LoadFigures> {
  let errors = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: concurrency,
    duration: seconds,
    requests: shapes.map((shape) => ({
      method: 'POST' as const,
      path: shape.path,
      headers: { 'content-type': 'application/json', authorization: shape.authorization },
      body: shape.body,
      onResponse: (status: number, body: string) => {
        if (status !== 200 || !body.includes('"hashes"')) errors += 1;
      },
    })),
  });
  const requests = result.requests.total;
  return {
    requests,
    errors: errors + result.errors + result.timeouts,
    rate: requests / (result.duration || seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}
