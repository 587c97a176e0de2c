/**
 * npm run bench -- walk [--small 1000] [--large 100000] [--runs 200] [--limit 20]
 *   The walk's cost on a small and a large generated room, both in this process: Neo4j database hits (PROFILE)
 *   and wall-clock latency per walk, and the large/small ratio of each.
 * npm run bench -- import [--events 100000] [--room-version 10] [--warmup 20000]
 *   Events per second importing a freshly generated room, after importing a warm-up room of its own (Neo4j's
 *   JIT-compiled Cypher runtime is about twice as fast warm as just after start); both figures are printed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readKeysFile, keysFilePath } from '../generator/keys-file';
import { PROJECT_ROOT } from '../paths';
import { EventStore } from '../store/event-store';
import { applySchema } from '../store/neo4j';
import { loadConfig } from '../config';
import { connectGraph } from '../store/connect';
import { writeRoom } from '../generator/write-room';
import { describe as describeImport, importSources } from '../importer/import-files';

const BENCH_DIR = join(PROJECT_ROOT, '.data', 'bench');

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      small: { type: 'string', default: '1000' },
      large: { type: 'string', default: '100000' },
      runs: { type: 'string', default: '200' },
      limit: { type: 'string', default: '20' },
      events: { type: 'string', default: '100000' },
      warmup: { type: 'string', default: '20000' },
      'room-version': { type: 'string', default: '10' },
    },
  });
  const { graph, close } = await connectGraph(loadConfig(process.env).neo4j);
  try {
    await applySchema(graph);
    const store = new EventStore(graph);
    mkdirSync(BENCH_DIR, { recursive: true });
    if (positionals[0] === 'walk') {
      await benchWalk(store, Number(values.small), Number(values.large), Number(values.runs), Number(values.limit));
    } else if (positionals[0] === 'import') {
      const warmup = Number(values.warmup);
      if (warmup > 0) console.log(`warm-up: ${await benchImport(store, warmup, values['room-version']!)}`);
      console.log(`measured: ${await benchImport(store, Number(values.events), values['room-version']!)}`);
    } else {
      throw new Error('say which benchmark: walk or import');
    }
  } finally {
    await close();
  }
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

/** Generates a new room (not timed) and imports it; returns the importer's summary line. */
async function benchImport(store: EventStore, events: number, roomVersion: string): Promise<string> {
  const file = join(BENCH_DIR, `import-${events}-${Date.now()}.jsonl`);
  await writeRoom({ events, roomVersion, seed: file }, file);
  return describeImport(await importSources(store, [file]));
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`bench failed: ${error.message}\n`);
    process.exit(1);
  });
}
