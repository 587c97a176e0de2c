/**
 * npm run bench [-- --full] [--seconds 10]
 *   The comparative benchmark (issue "Performance"): imports fresh generated rooms of 10,000 and 100,000 events
 *   (and 1,000,000 with --full) into the Neo4j in use, which already holds rooms; walks them with limits 10, 20 and
 *   100 over a few hundred request shapes, beside three baselines on the same requests (Synapse's per-event walk,
 *   the `RETURN 1` round trip, a breadth-first walk over in-memory maps); then the HTTP endpoint under signed load.
 *   Prints a table and writes the same figures as JSON to .data/bench/results-<time>.json. --reuse takes the rooms
 *   and import figures of the newest earlier run (to measure the rest again without importing again).
 * npm run bench -- walk [--small 1000] [--large 100000] [--runs 200] [--limit 20]
 *   The walk's cost on a small and a large generated room, both in this process: Neo4j database hits (PROFILE)
 *   and wall-clock latency per walk, and the large/small ratio of each.
 * npm run bench -- import [--events 100000] [--room-version 10] [--warmup 20000]
 *   Events per second importing a freshly generated room, after importing a warm-up room of its own (Neo4j's
 *   JIT-compiled Cypher runtime is about twice as fast warm as just after start); both figures are printed.
 * npm run bench -- endpoint [--events 100000] [--seconds 10] [--concurrency 1,16,64] [--origins 32] [--limit 20]
 *                           [--scenarios floor,distinct,herd]
 *   The service as `npm start` runs it under signed load from many origins: the /version floor, distinct walks and
 *   a herd, with the machine's speed and busy %, the database's size and CPU per request (src/cli/bench-endpoint.ts).
 * npm run bench -- synapse   (SECONDS=10 ROUNDS=500 CONNECTIONS=1,16,64 in the environment)
 *   Synapse 1.163 on PostgreSQL beside the service on a ~2,000-event forked room Synapse made, the same signed
 *   requests to both at each connection count: req/s, p50, p99, CPU per request and the ratios (bench-synapse.ts).
 * npm run bench -- bulk [--events 1000000] [--room-version 10]
 *   A first load into an empty database with neo4j-admin (import --bulk) against the graph importer, each into a
 *   throw-away Neo4j of its own (src/cli/bench-bulk.ts).
 * npm run bench -- state [--small 1000] [--large 100000] [--runs 200] [--limit 20]
 *   What authorization and visibility read at `limit` events (the newest ones a walk returns), on a small and a
 *   large room: PROFILE database hits and latency of state-summaries.cypher, their ratio, and what the rooms'
 *   states take in the graph per event (nodes, relationships, state entries).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readKeysFile, keysFilePath } from '../generator/keys-file';
import { PROJECT_ROOT } from '../paths';
import { EventStore } from '../store/event-store';
import { StateStore } from '../store/state-store';
import { benchBulk } from './bench-bulk';
import { benchEndpoint } from './bench-endpoint';
import { computeEventId } from '../core/event-hashes';
import { getRoomVersion } from '../core/room-versions';
import { applySchema, type Graph } from '../store/neo4j';
import { benchWalks, formatWalkTable } from '../bench/walk-bench';
import { loadConfig } from '../config';
import { connectGraph } from '../store/connect';
import { writeRoom } from '../generator/write-room';
import { describe as describeImport, importSources } from '../importer/import-files';

const BENCH_DIR = join(PROJECT_ROOT, '.data', 'bench');

export async function runBench(args: readonly string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      small: { type: 'string', default: '1000' },
      large: { type: 'string', default: '100000' },
      runs: { type: 'string', default: '200' },
      limit: { type: 'string', default: '20' },
      events: { type: 'string' },
      warmup: { type: 'string', default: '20000' },
      'room-version': { type: 'string', default: '10' },
      seconds: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '1,16,64' },
      origins: { type: 'string', default: '32' },
      scenarios: { type: 'string', default: 'floor,distinct,herd' },
      full: { type: 'boolean', default: false },
      reuse: { type: 'boolean', default: false },
    },
  });
  if (positionals[0] === 'synapse') return benchSynapse();
  if (positionals[0] === 'bulk') {
    mkdirSync(BENCH_DIR, { recursive: true });
    const events = Number(values.events ?? 1_000_000);
    return benchBulk({ events, roomVersion: values['room-version']!, dir: BENCH_DIR });
  }
  const { graph, uri, close } = await connectGraph(loadConfig(process.env).neo4j);
  try {
    await applySchema(graph);
    const store = new EventStore(graph);
    mkdirSync(BENCH_DIR, { recursive: true });
    if (positionals[0] === undefined) {
      await benchAll(graph, store, { full: values.full!, seconds: Number(values.seconds), limit: Number(values.limit), reuse: values.reuse!, neo4jUri: uri });
    } else if (positionals[0] === 'walk') {
      await benchWalk(store, Number(values.small), Number(values.large), Number(values.runs), Number(values.limit));
    } else if (positionals[0] === 'import') {
      const warmup = Number(values.warmup);
      if (warmup > 0) console.log(`warm-up: ${await benchImport(store, warmup, values['room-version']!)}`);
      console.log(`measured: ${await benchImport(store, Number(values.events ?? 100_000), values['room-version']!)}`);
    } else if (positionals[0] === 'endpoint') {
      await benchEndpoint(graph, {
        events: Number(values.events ?? 100_000), seconds: Number(values.seconds), limit: Number(values.limit),
        concurrency: values.concurrency!.split(',').map(Number), dir: BENCH_DIR,
        origins: Number(values.origins), scenarios: values.scenarios!.split(','), neo4jUri: uri,
      });
    } else if (positionals[0] === 'state') {
      await benchState(store, Number(values.small), Number(values.large), Number(values.runs), Number(values.limit));
    } else {
      throw new Error('say which benchmark: walk, import, bulk, state, endpoint or synapse');
    }
  } finally {
    await close();
  }
}

/**
 * Synapse beside the service (test/synapse/bench-synapse.ts): run by jest with the Synapse harness of
 * test/synapse/helpers (a virtualenv from PyPI, our PostgreSQL, a throw-away Neo4j), as npm run test:synapse runs it.
 */
function benchSynapse(): Promise<void> {
  const jest = join(PROJECT_ROOT, 'node_modules', '.bin', 'jest');
  const args = ['--runInBand', '--config', 'jest.synapse.config.js', '--testMatch', '**/test/synapse/bench-synapse.ts'];
  return new Promise((resolve, reject) => {
    const child = spawn(jest, args, { cwd: PROJECT_ROOT, stdio: 'inherit' });
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench synapse: jest exited with ${code}`))));
  });
}

/** The whole comparative benchmark: import, walks with baselines, endpoint; a table and a JSON file. */
async function benchAll(
  graph: Graph,
  store: EventStore,
  options: { full: boolean; seconds: number; limit: number; reuse: boolean; neo4jUri: string },
): Promise<void> {
  const sizes = options.full ? [10_000, 100_000, 1_000_000] : [10_000, 100_000];
  const started = new Date();
  const imports = options.reuse ? previousImports(sizes) : [];
  for (const events of sizes.filter((size) => !imports.some((room) => room.events === size))) {
    const file = join(BENCH_DIR, `run-${events}-${started.getTime()}.jsonl`);
    process.stderr.write(`generating ${events} events (not timed)\n`);
    await writeRoom({ events, roomVersion: '10', seed: file }, file);
    const summary = await importSources(store, [file]);
    const roomId = readKeysFile(keysFilePath(file)).room_id;
    imports.push({ events, roomId, seconds: summary.seconds, rate: summary.stored / summary.seconds, date: started.toISOString() });
  }
  imports.sort((a, b) => a.events - b.events);
  for (const room of imports) {
    console.log(`import: ${room.events} events in ${room.seconds.toFixed(1)} s, ${room.rate.toFixed(0)} events/s (${room.date})`);
  }
  // The first room (10k) is the base of the size ratios and the flat-cost targets.
  const walks = await benchWalks(graph, imports.map((room) => ({ label: label(room.events), roomId: room.roomId })), {
    limits: [10, 20, 100], shapes: 200, runs: 2,
  });
  console.log(formatWalkTable(walks));
  const endpoint = await benchEndpoint(graph, {
    events: 100_000, seconds: options.seconds, limit: options.limit, concurrency: [1, 16, 64], dir: BENCH_DIR, neo4jUri: options.neo4jUri,
  });
  const results = {
    date: started.toISOString(),
    machine: { cpus: availableParallelism(), memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    import: imports,
    walk: walks,
    endpoint,
  };
  const out = join(BENCH_DIR, `results-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nfigures written to ${out}`);
}

interface ImportFigures {
  readonly events: number;
  readonly roomId: string;
  readonly seconds: number;
  readonly rate: number;
  /** When the import was measured (--reuse takes the rooms and figures of an earlier run). */
  readonly date: string;
}

/** The rooms (and import figures) of the newest earlier run, for --reuse: walks and endpoint without re-importing. */
function previousImports(sizes: readonly number[]): ImportFigures[] {
  const files = readdirSync(BENCH_DIR).filter((name) => /^results-.*\.json$/.test(name)).sort();
  if (files.length === 0) return [];
  const previous = JSON.parse(readFileSync(join(BENCH_DIR, files[files.length - 1]!), 'utf8')) as { import?: ImportFigures[] };
  return (previous.import ?? []).filter((room) => room.roomId !== undefined && sizes.includes(room.events));
}

function label(events: number): string {
  return events >= 1_000_000 ? `${events / 1_000_000}M` : `${events / 1000}k`;
}

/** Generates (once) and imports (once) a room of `events` events; returns its room ID. */
async function benchRoom(store: EventStore, events: number): Promise<string> {
  const file = join(BENCH_DIR, `room-${events}.jsonl`);
  if (!existsSync(keysFilePath(file))) await writeRoom({ events, roomVersion: '10', seed: `bench-${events}` }, file);
  const roomId = readKeysFile(keysFilePath(file)).room_id;
  const stored = await store.latestEvent(roomId);
  if (stored === undefined) {
    process.stderr.write(`importing ${file}\n`);
    await importSources(store, [file]);
  }
  return roomId;
}

async function benchWalk(store: EventStore, small: number, large: number, runs: number, limit: number): Promise<void> {
  const results = [];
  for (const events of [small, large]) {
    const roomId = await benchRoom(store, events);
    const latest = (await store.latestEvent(roomId))!;
    const request = { room_id: roomId, latest_events: [latest.event_id], earliest_events: [], min_depth: 0, limit };
    const dbHits = await store.walkDbHits(request);
    for (let i = 0; i < 20; i++) await store.walk(request); // warm up
    const times: number[] = [];
    let returned = 0;
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      returned = (await store.walk(request)).length;
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const p95 = times[Math.floor(times.length * 0.95)]!;
    results.push({ events, dbHits, median, p95, returned });
    console.log(
      `walk limit=${limit} on a ${events}-event room: ${returned} events, ${dbHits} db hits, ` +
        `median ${median.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms over ${runs} runs`,
    );
  }
  const [a, b] = results as [(typeof results)[0], (typeof results)[0]];
  console.log(
    `ratio ${b.events}/${a.events} events: db hits ${(b.dbHits / a.dbHits).toFixed(2)}x, median latency ${(b.median / a.median).toFixed(2)}x`,
  );
}

async function benchState(store: EventStore, small: number, large: number, runs: number, limit: number): Promise<void> {
  const states = new StateStore(store.graph);
  const results = [];
  for (const events of [small, large]) {
    const roomId = await benchRoom(store, events);
    const latest = (await store.latestEvent(roomId))!;
    const walked = await store.walk({ room_id: roomId, latest_events: [latest.event_id], earliest_events: [], min_depth: 0, limit });
    const eventIds = walked.map((pdu) => computeEventIdOf(pdu));
    const dbHits = await states.summariesDbHits(eventIds, 'hs2.test');
    for (let i = 0; i < 20; i++) await states.summaries(eventIds, 'hs2.test');
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await states.summaries(eventIds, 'hs2.test');
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const p95 = times[Math.floor(times.length * 0.95)]!;
    results.push({ events, dbHits, median });
    console.log(
      `state lookup at ${eventIds.length} events of a ${events}-event room: ${dbHits} db hits, ` +
        `median ${median.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms over ${runs} runs`,
    );
    const storage = await states.storage(roomId);
    const per = (n: number) => (n / storage.events).toFixed(3);
    console.log(
      `  storage per event: ${per(storage.states)} State nodes (${storage.snapshots} snapshots), 2 state ID properties, ` +
        `${per(storage.state_entries)} state entries, relationships: ` +
        `DELTA_OF ${per(storage.delta_of)}, ` +
        `PREV_EVENT ${per(storage.prev_event)}, AUTH_EVENT ${per(storage.auth_event)}, IN_ROOM ${per(storage.in_room)}`,
    );
  }
  const [a, b] = results as [(typeof results)[0], (typeof results)[0]];
  console.log(`ratio ${b.events}/${a.events} events: db hits ${(b.dbHits / a.dbHits).toFixed(2)}x, median latency ${(b.median / a.median).toFixed(2)}x`);
}

function computeEventIdOf(pdu: string): string {
  const parsed = JSON.parse(pdu) as Record<string, unknown>;
  return computeEventId(parsed, getRoomVersion('10')!)!;
}

/** Generates a new room (not timed) and imports it; returns the importer's summary line. */
async function benchImport(store: EventStore, events: number, roomVersion: string): Promise<string> {
  const file = join(BENCH_DIR, `import-${events}-${Date.now()}.jsonl`);
  await writeRoom({ events, roomVersion, seed: file }, file);
  return describeImport(await importSources(store, [file]));
}

if (require.main === module) {
  runBench(process.argv.slice(2)).catch((error: Error) => {
    process.stderr.write(`bench failed: ${error.message}\n`);
    process.exit(1);
  });
}
