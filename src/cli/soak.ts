/**
 * npm run soak [-- --seconds 300 --rate N --events 2000 --connections 16]
 * The service under a steady load for a long while: a mix of valid requests (7 in 10), invalid ones (bad field,
 * bad parameter, a body that is not JSON) and unauthorised ones (a signature that does not verify, no X-Matrix
 * header, a server not in the room), each with the status and errcode it must get. The rate is `--rate`, or 80% of
 * the throughput the same mix reaches unthrottled in a short measure first. Every 30 s and at the end it prints
 * the answers so far, the unexpected ones and the service's RSS; it exits with 1 when any answer was unexpected.
 * The service runs in a process of its own (bench-serve.ts, as the endpoint benchmark measures it), on the
 * configured Neo4j; the load comes from this process through autocannon.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Command } from 'commander';
import { loadConfig } from '../config';
import { computeEventId } from '../core/event-hashes';
import { getRoomVersion } from '../core/room-versions';
import { generateSigningKey, type SigningKey } from '../core/signing';
import { signRequest } from '../core/x-matrix';
import { keysFilePath, readKeysFile, type RoomKeys } from '../generator/keys-file';
import { writeRoom } from '../generator/write-room';
import { importSources } from '../importer/import-files';
import { PROJECT_ROOT } from '../paths';
import { registerRoomKeys } from '../service/demo-room';
import { connectGraph } from '../store/connect';
import { EventStore } from '../store/event-store';
import { applySchema, type Graph } from '../store/neo4j';
import { Neo4jServerKeyStore } from '../store/server-key-store';
import { BENCH_SERVER_NAME } from './bench-serve';
import { startService, type BenchService } from './bench-endpoint';
import { integerOption, runProgram } from './command';

export interface SoakOptions {
  readonly seconds: number;
  /** Requests per second; 80% of the measured maximum when absent. */
  readonly rate?: number;
  readonly events: number;
  readonly connections: number;
  readonly measureSeconds: number;
}

/** One kind of request and the answer it must get. */
interface Probe {
  readonly kind: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly status: number;
  /** The errcode the answer must carry; a 200 must be `{"events":[...]}`. */
  readonly errcode?: string;
}

/** A server of the generated rooms that joins last, so a `joined` room has events to redact for it. */
const ORIGIN = 'hs4.test';
/** A server whose key the service knows but that has no member in the room. */
const OUTSIDER = 'outsider.test';
const REPORT_EVERY_SECONDS = 30;

export async function runSoak(options: SoakOptions, print: (line: string) => void): Promise<boolean> {
  const { graph, close } = await connectGraph(loadConfig(process.env).neo4j);
  let service: BenchService | undefined;
  try {
    await applySchema(graph);
    const probes = await prepare(graph, options.events);
    service = await startService();
    await load(service.port, probes, options.connections, 3, undefined, new Tally()); // warm-up: JIT, caches
    const rate = options.rate ?? (await measureRate(service.port, probes, options.connections, options.measureSeconds, print));
    print(`soak: ${options.seconds} s at ${rate} requests/s over ${options.connections} connections, ${describeMix(probes)}`);

    const tally = new Tally();
    const rss: number[] = [];
    const started = performance.now();
    for (let done = 0; done < options.seconds; ) {
      const slice = Math.min(REPORT_EVERY_SECONDS, options.seconds - done);
      const run = await load(service.port, probes, options.connections, slice, rate, tally);
      done += slice;
      const { rss: now } = await service.rss();
      rss.push(now);
      print(
        `${String(done).padStart(4)} s: ${tally.total} answers (${(run.requests / slice).toFixed(0)}/s in the last ${slice} s, ` +
          `p50 ${run.p50} ms, p99 ${run.p99} ms); ${tally.describe()}; service RSS ${mb(now)} MB`,
      );
    }
    const { peak } = await service.rss();
    const seconds = (performance.now() - started) / 1000;
    print(
      `soak done: ${tally.total} answers in ${seconds.toFixed(0)} s (${(tally.total / seconds).toFixed(0)}/s); ${tally.describe()}; ` +
        `service RSS ${mb(rss[0]!)} MB after the first ${Math.min(REPORT_EVERY_SECONDS, options.seconds)} s, ${mb(rss[rss.length - 1]!)} MB at the end, ` +
        `peak ${mb(peak)} MB`,
    );
    for (const line of tally.unexpectedLines()) print(`unexpected: ${line}`);
    return tally.unexpected === 0;
  } finally {
    await service?.stop();
    await close();
  }
}

/** Generates and imports the soak room when missing, tells the service the callers' keys, and builds the probes. */
async function prepare(graph: Graph, events: number): Promise<Probe[]> {
  const store = new EventStore(graph);
  const file = join(PROJECT_ROOT, '.data', 'soak', `soak-joined-${events}.jsonl`);
  if (!existsSync(keysFilePath(file))) await writeRoom({ events, roomVersion: '10', seed: `soak-${events}`, historyVisibility: 'joined' }, file);
  const keys = readKeysFile(keysFilePath(file));
  if ((await store.latestEvent(keys.room_id)) === undefined) {
    process.stderr.write(`importing ${file}\n`);
    await importSources(store, [file]);
  }
  const origin = generateSigningKey('soak');
  const outsider = generateSigningKey('soak');
  await registerRoomKeys(
    { room_id: '!soak:soak.test', room_version: '10', servers: new Map([[ORIGIN, origin], [OUTSIDER, outsider]]) },
    new Neo4jServerKeyStore(graph),
    Date.now(),
  );
  return probes(keys, eventIds(file, keys), origin, outsider);
}

/** The room's event IDs in file order (the generator writes them oldest first). */
function eventIds(file: string, keys: RoomKeys): string[] {
  const version = getRoomVersion(keys.room_version)!;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => computeEventId(JSON.parse(line) as Record<string, unknown>, version)!);
}

/** Twenty requests: 14 valid (latest events spread over the room), 3 invalid, 3 unauthorised. */
function probes(keys: RoomKeys, ids: readonly string[], origin: SigningKey, outsider: SigningKey): Probe[] {
  const path = `/_matrix/federation/v1/get_missing_events/${encodeURIComponent(keys.room_id)}`;
  const signed = (kind: string, content: unknown, as: string, key: SigningKey, status: number, errcode?: string): Probe => {
    const authorization = signRequest({ method: 'POST', uri: path, origin: as, destination: BENCH_SERVER_NAME, content, key });
    return { kind, path, headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(content), status, errcode };
  };
  const request = (latest: string) => ({ latest_events: [latest], earliest_events: [], limit: 10, min_depth: 0 });
  const valid = Array.from({ length: 14 }, (_, i) => signed('valid', request(ids[Math.floor(((i + 1) * (ids.length - 1)) / 14)]!), ORIGIN, origin, 200));
  const latest = ids[ids.length - 1]!;
  const forged = signed('unauthorised: bad signature', request(latest), ORIGIN, generateSigningKey('soak'), 401, 'M_UNAUTHORIZED');
  return [
    ...valid.slice(0, 5),
    signed('invalid: latest_events not a list', { latest_events: latest, limit: 10 }, ORIGIN, origin, 400, 'M_BAD_JSON'),
    ...valid.slice(5, 7),
    forged,
    ...valid.slice(7, 9),
    signed('invalid: limit 0', { ...request(latest), limit: 0 }, ORIGIN, origin, 400, 'M_INVALID_PARAM'),
    { kind: 'unauthorised: no X-Matrix', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(request(latest)), status: 401, errcode: 'M_UNAUTHORIZED' },
    ...valid.slice(9, 12),
    { kind: 'invalid: not JSON', path, headers: { 'content-type': 'application/json', authorization: forged.headers.authorization! }, body: '{"latest_events": [', status: 400, errcode: 'M_NOT_JSON' },
    signed('unauthorised: not in the room', request(latest), OUTSIDER, outsider, 403, 'M_FORBIDDEN'),
    ...valid.slice(12),
  ];
}

function describeMix(probes: readonly Probe[]): string {
  const count = (prefix: string) => probes.filter((probe) => probe.kind.startsWith(prefix)).length;
  return `each 20 requests: ${count('valid')} valid, ${count('invalid')} invalid, ${count('unauthorised')} unauthorised`;
}

/** Answers by status and errcode, and the unexpected ones by request kind. */
class Tally {
  readonly answers = new Map<string, number>();
  readonly unexpectedByKind = new Map<string, number>();
  total = 0;
  unexpected = 0;

  check(probe: Probe, status: number, body: string): void {
    const errcode = status === 200 ? undefined : errcodeOf(body);
    const key = errcode ? `${status} ${errcode}` : String(status);
    this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
    this.total += 1;
    const ok = status === probe.status && (status === 200 ? body.startsWith('{"events":[') : errcode === probe.errcode);
    if (!ok) this.fail(`${probe.kind}: got ${key}, expected ${probe.status}${probe.errcode ? ` ${probe.errcode}` : ''}`);
  }

  /** Connection errors and timeouts, which autocannon counts apart from answers. */
  fail(line: string, count = 1): void {
    if (count === 0) return;
    this.unexpected += count;
    this.unexpectedByKind.set(line, (this.unexpectedByKind.get(line) ?? 0) + count);
  }

  describe(): string {
    const answers = [...this.answers].sort(([a], [b]) => a.localeCompare(b)).map(([key, count]) => `${key}: ${count}`);
    return `${answers.join(', ')}; unexpected: ${this.unexpected}`;
  }

  unexpectedLines(): string[] {
    return [...this.unexpectedByKind].map(([line, count]) => `${count} x ${line}`);
  }
}

function errcodeOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { errcode?: unknown };
    return typeof parsed.errcode === 'string' ? parsed.errcode : undefined;
  } catch {
    return undefined;
  }
}

interface LoadFigures {
  readonly requests: number;
  readonly p50: number;
  readonly p99: number;
}

/** The probes in turn on `connections` keep-alive connections for `seconds`, at `rate` requests/s when given. */
async function load(port: number, probes: readonly Probe[], connections: number, seconds: number, rate: number | undefined, tally: Tally): Promise<LoadFigures> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    ...(rate === undefined ? {} : { overallRate: rate }),
    requests: probes.map((probe) => ({
      method: 'POST' as const,
      path: probe.path,
      headers: probe.headers,
      body: probe.body,
      onResponse: (status: number, body: string) => tally.check(probe, status, body),
    })),
  });
  tally.fail('connection error', result.errors);
  tally.fail('timeout', result.timeouts);
  return { requests: result.requests.total, p50: result.latency.p50, p99: result.latency.p99 };
}

/** 80% of what the mix reaches unthrottled over `seconds`. */
async function measureRate(port: number, probes: readonly Probe[], connections: number, seconds: number, print: (line: string) => void): Promise<number> {
  const tally = new Tally();
  const run = await load(port, probes, connections, seconds, undefined, tally);
  const max = run.requests / seconds;
  print(`measured maximum: ${max.toFixed(0)} requests/s over ${connections} connections (${seconds} s, p99 ${run.p99} ms; ${tally.describe()})`);
  return Math.max(1, Math.floor(0.8 * max));
}


function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

export function soakCommand(): Command {
  return new Command('soak')
    .description('a long steady load of valid, invalid and unauthorised requests: unexpected answers and the service RSS')
    .option('--seconds <n>', 'how long the load lasts', integerOption(1), 300)
    .option('--rate <n>', 'requests per second (default: 80% of the measured maximum)', integerOption(1))
    .option('--events <n>', 'size of the generated room the valid requests read', integerOption(10), 2000)
    .option('--connections <n>', 'keep-alive connections', integerOption(1), 16)
    .option('--measure-seconds <n>', 'how long the maximum is measured', integerOption(1), 10)
    .action(async (options: SoakOptions) => {
      const ok = await runSoak(options, (line) => process.stdout.write(`${line}\n`));
      if (!ok) process.exitCode = 1;
    });
}

if (require.main === module) void runProgram(soakCommand());
