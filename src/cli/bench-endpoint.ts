/**
 * npm run bench -- endpoint [--events 100000] [--seconds 10] [--concurrency 1,16,64] [--origins 32] [--limit 20]
 *                           [--scenarios floor,distinct,herd]
 *   The service as `npm start` runs it (src/bench/service-process.ts: dist/src/main.js with the shipped node options,
 *   the rate limiter and the per-(origin, room) queue, the deadline, metrics and the request log), under signed load
 *   from `--origins` servers of a generated `shared` room, each with its own key. One peer sending all the load would
 *   meet Synapse's rc_federation limits, so they are raised by configuration (RC_FEDERATION_SLEEP_LIMIT and
 *   RC_FEDERATION_REJECT_LIMIT 1,000,000; RC_FEDERATION_CONCURRENT stays 3 and the one walk per (origin, room) stays).
 *   Scenarios, in one run: `floor`, GET /_matrix/federation/v1/version at the largest concurrency with the request log
 *   on (LOG_LEVEL=info) and off (warn): the fixed cost every request pays; `distinct`, walks from the room's newest
 *   events (a different walk per request in flight) at each concurrency; `herd`, every origin asking the same walk
 *   at the largest concurrency (the servers of a busy room catching up after a netsplit).
 *   Beside each figure: the machine's speed (ed25519 verifications per second), the database's size, the machine's
 *   busy % and load during the run, and CPU per request of the service and of Neo4j (/proc; Neo4j found by the
 *   port of NEO4J_URI when it runs on this machine). The load comes from this process, through autocannon.
 */
import autocannon from 'autocannon';
import { createReadStream, existsSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { signRequest } from '../core/x-matrix';
import { computeEventId } from '../core/event-hashes';
import { getRoomVersion } from '../core/room-versions';
import { keysFilePath, readKeysFile, type RoomKeys } from '../generator/keys-file';
import { writeRoom } from '../generator/write-room';
import { importSources } from '../importer/import-files';
import { registerRoomKeys } from '../service/demo-room';
import { loadCypher } from '../store/cypher-files';
import { EventStore } from '../store/event-store';
import { type Graph, readTx, rows } from '../store/neo4j';
import { Neo4jServerKeyStore } from '../store/server-key-store';
import { CpuWindow, ed25519VerificationsPerSecond, pidListeningOn } from '../bench/host';
import { startServiceProcess, type ServiceProcess } from '../bench/service-process';

export { startService, type BenchService } from '../bench/forked-service';

const QUERIES = loadCypher(['database-node-count']);
const SERVER_NAME = 'bench.test';
const RAISED_LIMITS = { RC_FEDERATION_SLEEP_LIMIT: '1000000', RC_FEDERATION_REJECT_LIMIT: '1000000' };

export interface EndpointBenchOptions {
  readonly events: number;
  readonly seconds: number;
  readonly concurrency: readonly number[];
  readonly limit: number;
  readonly dir: string;
  readonly origins?: number;
  readonly scenarios?: readonly string[];
  /** Tells rooms apart from those of another run (another version of this service) on the same Neo4j. */
  readonly tag?: string;
  /** The Bolt URI of `graph`: its Neo4j's CPU is counted when it listens on this machine. */
  readonly neo4jUri?: string;
}

interface Shape {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
  readonly authorization?: string;
}

export interface EndpointFigures {
  readonly scenario: string;
  readonly logLevel: string;
  readonly concurrency: number;
  readonly requests: number;
  readonly errors: number;
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  /** CPU milliseconds per request of the service and of Neo4j (undefined when Neo4j is not found here). */
  readonly serviceCpuMs: number;
  readonly neo4jCpuMs: number | undefined;
  /** The load generator's (this process's) CPU per request. */
  readonly loadCpuMs: number;
  readonly busyPercent: number;
  readonly load: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
}

export async function benchEndpoint(graph: Graph, options: EndpointBenchOptions): Promise<EndpointFigures[]> {
  const scenarios = new Set(options.scenarios ?? ['floor', 'distinct', 'herd']);
  const events = new EventStore(graph);
  const speed = ed25519VerificationsPerSecond();
  const size = await databaseSize(graph);
  const neo4jPid = neo4jProcess(options.neo4jUri);
  console.log(
    `machine: ${speed.toFixed(0)} ed25519 verifications/s (${(1e6 / speed).toFixed(0)} µs each); ` +
      `database: ${size.nodes} nodes, ${size.rooms} rooms; Neo4j process: ${neo4jPid ?? 'not on this machine (its CPU not counted)'}`,
  );
  const origins = options.origins ?? 32;
  const { keys, file } = await benchRoom(events, options, origins + 1);
  await registerRoomKeys(keys, new Neo4jServerKeyStore(graph), Date.now());
  // The room's servers with a joined member now (the room access check lets them read it), `origins` of them.
  const newest = (await events.latestEvent(keys.room_id))!.event_id;
  const servers: string[] = [];
  for (const name of keys.servers.keys()) {
    const probe = { room_id: keys.room_id, latest_events: [newest], earliest_events: [], min_depth: 0, limit: 1 };
    if (servers.length < origins && (await events.missingEvents(probe, name)).room?.origin_joined === true) servers.push(name);
  }
  if (servers.length < origins) console.log(`only ${servers.length} of the room's servers are joined: ${servers.length} origins`);
  const distinct = await distinctShapes(file, keys, servers, options.limit);
  const herd = servers.map((origin) => walkShape(keys, origin, { latest_events: [newest], earliest_events: [], limit: options.limit, min_depth: 0 }));
  const version: Shape[] = [{ method: 'GET', path: '/_matrix/federation/v1/version' }];
  const most = Math.max(...options.concurrency);
  console.log(
    `service: as npm start runs it, ${servers.length} origins each with its own key, rate limits raised by configuration ` +
      `(${Object.entries(RAISED_LIMITS).map(([name, value]) => `${name}=${value}`).join(', ')}; RC_FEDERATION_CONCURRENT 3 and one walk ` +
      `per (origin, room) as shipped); room ${keys.room_id} (${options.events} events, shared), limit ${options.limit}`,
  );

  const figures: EndpointFigures[] = [];
  const measure = async (service: ServiceProcess, scenario: string, logLevel: string, shapes: readonly Shape[], concurrency: number) => {
    await load(service.port, shapes, concurrency, Math.min(3, options.seconds)); // warm-up: JIT, caches, query plans
    const window = new CpuWindow(neo4jPid === undefined ? [service.pid] : [service.pid, neo4jPid]);
    const run = await load(service.port, shapes, concurrency, options.seconds);
    const used = window.stop();
    const { rss, peak } = service.rss();
    const perRequest = (seconds: number | undefined) => (seconds === undefined ? undefined : (1000 * seconds) / Math.max(1, run.requests));
    const row: EndpointFigures = {
      scenario, logLevel, concurrency, ...run,
      serviceCpuMs: perRequest(used.cpuSeconds.get(service.pid))!,
      neo4jCpuMs: neo4jPid === undefined ? undefined : perRequest(used.cpuSeconds.get(neo4jPid)),
      loadCpuMs: perRequest(used.ownCpuSeconds)!,
      busyPercent: used.busyPercent, load: used.load, rssMb: rss / 2 ** 20, peakRssMb: peak / 2 ** 20,
    };
    figures.push(row);
    console.log(describe(row));
  };

  if (scenarios.has('floor')) {
    const quiet = await startServiceProcess({ SERVER_NAME, LOG_LEVEL: 'warn', ...RAISED_LIMITS });
    try {
      await measure(quiet, 'version', 'warn', version, most);
    } finally {
      await quiet.stop();
    }
  }
  const service = await startServiceProcess({ SERVER_NAME, LOG_LEVEL: 'info', ...RAISED_LIMITS });
  try {
    if (scenarios.has('floor')) await measure(service, 'version', 'info', version, most);
    if (scenarios.has('distinct')) for (const concurrency of options.concurrency) await measure(service, 'distinct', 'info', distinct, concurrency);
    if (scenarios.has('herd')) await measure(service, 'herd', 'info', herd, most);
  } finally {
    await service.stop();
  }
  const out = join(options.dir, `endpoint-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, `${JSON.stringify({ speed, size, figures }, null, 2)}\n`);
  console.log(`figures written to ${out}`);
  return figures;
}

function describe(row: EndpointFigures): string {
  const neo4j = row.neo4jCpuMs === undefined ? 'Neo4j n/a' : `Neo4j ${row.neo4jCpuMs.toFixed(2)}`;
  return (
    `${row.scenario.padEnd(8)} log ${row.logLevel.padEnd(4)} c=${String(row.concurrency).padStart(2)}: ${row.rate.toFixed(0).padStart(5)} req/s, ` +
    `p50 ${row.p50.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms, ${row.errors} errors of ${row.requests}; ` +
    `CPU ms/request: service ${row.serviceCpuMs.toFixed(2)} + ${neo4j} (load generator ${row.loadCpuMs.toFixed(2)}); ` +
    `machine ${row.busyPercent.toFixed(0)}% busy, load ${row.load.toFixed(2)}; service RSS ${row.rssMb.toFixed(0)} MB (peak ${row.peakRssMb.toFixed(0)})`
  );
}

async function databaseSize(graph: Graph): Promise<{ nodes: number; rooms: number }> {
  const [row] = await readTx(graph, (tx) => rows<{ nodes: number; rooms: number }>(tx, QUERIES['database-node-count'], {}));
  return row ?? { nodes: 0, rooms: 0 };
}

/** The Neo4j at `uri` when it listens on this machine. */
function neo4jProcess(uri: string | undefined): number | undefined {
  if (uri === undefined) return undefined;
  const url = new URL(uri);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return undefined;
  return pidListeningOn(Number(url.port || 7687));
}

/** A generated `shared` room with `servers` servers, imported once (its file and keys are kept for later runs). */
async function benchRoom(events: EventStore, options: EndpointBenchOptions, servers: number): Promise<{ keys: RoomKeys; file: string }> {
  const name = `endpoint-shared-${options.events}-${servers}-servers${options.tag ? `-${options.tag}` : ''}`;
  const file = join(options.dir, `${name}.jsonl`);
  if (!existsSync(keysFilePath(file))) {
    await writeRoom({ events: options.events, roomVersion: '10', seed: `bench-${name}`, servers, historyVisibility: 'shared' }, file);
  }
  const keys = readKeysFile(keysFilePath(file));
  if ((await events.latestEvent(keys.room_id)) === undefined) {
    process.stderr.write(`importing ${file}\n`);
    await importSources(events, [file]);
  }
  return { keys, file };
}

function walkShape(keys: RoomKeys, origin: string, content: Record<string, unknown>): Shape {
  const path = `/_matrix/federation/v1/get_missing_events/${encodeURIComponent(keys.room_id)}`;
  const authorization = signRequest({ method: 'POST', uri: path, origin, destination: SERVER_NAME, content, key: keys.servers.get(origin)! });
  return { method: 'POST', path, body: JSON.stringify(content), authorization };
}

/**
 * 256 requests, each from the next origin in turn, walking back from one of the room's 256 newest events: with the
 * requests sent in turn, the walks in flight at once are all different. Each is signed once: X-Matrix covers the
 * method, path and body, so the same header serves every repeat.
 */
async function distinctShapes(file: string, keys: RoomKeys, origins: readonly string[], limit: number): Promise<Shape[]> {
  const version = getRoomVersion(keys.room_version)!;
  const newest = (await lastLines(file, 256)).map((line) => computeEventId(JSON.parse(line) as Record<string, unknown>, version)!);
  return newest.map((latest, i) =>
    walkShape(keys, origins[i % origins.length]!, { latest_events: [latest], earliest_events: [], limit, min_depth: 0 }),
  );
}

async function lastLines(file: string, count: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity })) {
    if (line === '') continue;
    lines.push(line);
    if (lines.length > count) lines.shift();
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
 * `concurrency` keep-alive connections for `seconds`, through autocannon (microsecond latency histogram). The shapes
 * are handed out in turn across all connections (autocannon would send each connection through the list from the
 * start, in step, making identical walks meet). An answer other than 200 (with events, for a walk) is an error.
 */
async function load(port: number, shapes: readonly Shape[], concurrency: number, seconds: number): Promise<LoadFigures> {
  let errors = 0;
  let next = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: concurrency,
    duration: seconds,
    requests: [
      {
        setupRequest: (request: autocannon.Request) => {
          const shape = shapes[next++ % shapes.length]!;
          const headers: Record<string, string> = shape.authorization === undefined ? {} : { 'content-type': 'application/json', authorization: shape.authorization };
          return { ...request, method: shape.method, path: shape.path, headers, body: shape.body };
        },
        onResponse: (status: number, body: string) => {
          if (status !== 200 || (body.startsWith('{"events"') === false && !body.includes('"server"'))) errors += 1;
        },
      },
    ],
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
