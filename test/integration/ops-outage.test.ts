/**
 * Neo4j stopped under load and started again: a throw-away Neo4j of this test's own (not the shared test one) on
 * free ports, the service on a real listener, and a steady signed load. While Neo4j is down and while it starts
 * again every answer is the availability gate's 503 M_UNAVAILABLE with Retry-After (none waits in Neo4j) and /ready
 * (on the ops listener) is 503; nothing else is answered, the service does not crash, and once Neo4j answers queries
 * again 200s resume by themselves (src/store/availability.ts). How soon is a figure, printed with the counts and
 * latencies of each phase for the README, not an expectation: the test waits for it with a generous cap, so a busy
 * host makes it slower, not red.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { generateSigningKey } from '../../src/core/signing';
import { RoomBuilder } from '../../src/generator/room-builder';
import { registerRoomKeys } from '../../src/service/demo-room';
import { applySchema, openGraph, type Graph } from '../../src/store/neo4j';
import { missingEventsPath, rawRequest, signedPost, startTestService, type TestService } from '../helpers/federation';
import { freePorts } from '../helpers/free-ports';
import { importLines } from '../helpers/graph';
import { neo4jScript } from '../helpers/neo4j-script';

const ALICE = '@alice:hs1.test';
const BOB = '@bob:hs2.test';
/** Callers, each sending a request 25 ms after the last answer. */
const WORKERS = 4;
/**
 * Once Neo4j reads the room again, the service lets requests through after its next probe (0.5 s after the last;
 * `RETURN 1` on a new connection takes 0.5-2 s in a fresh Neo4j) and the walk's first run, which plans it (about 3 s
 * in a fresh JVM on an idle 2-core machine, several times that on a busy one). Measured 3.1-8.5 s idle; the test
 * waits up to this generous cap for it.
 */
const RECOVERY_CAP_MS = 120_000;
/** Each phase lasts until it has this many answers (and at least its own time), capped: a busy host answers slower. */
const ANSWERS_PER_PHASE = 11;
const PHASE_CAP_MS = 60_000;
/** The availability gate's answer; the deadline's and a timed-out walk's say otherwise or take the query timeout. */
const GATE_ERROR = 'The room graph is unavailable at the moment; retry shortly';
const OUTAGE_MS = 10_000;
/** The service's defaults: NEO4J_QUERY_TIMEOUT_MS and REQUEST_DEADLINE_MS. */
const QUERY_TIMEOUT_MS = loadConfig({}).neo4j.queryTimeoutMs!;
const DEADLINE_MS = loadConfig({}).requestDeadlineMs;

type Phase = 'before' | 'stopping' | 'down' | 'starting' | 'after';
interface Answer {
  readonly phase: Phase;
  readonly at: number;
  readonly status: number;
  readonly errcode?: string;
  readonly error?: string;
  readonly retryAfter?: string;
  readonly ms: number;
}

let home: string;
let ports: { bolt: number; http: number };
let graph: Graph;
let service: TestService;
const room = new RoomBuilder('10', 'outage/room');
const identity = generateSigningKey('outage');
/** hs2.test's key: in the store before the outage, but first needed while Neo4j is down. */
const lateIdentity = generateSigningKey('late');

const startNeo4j = () =>
  neo4jScript('ensureNeo4j', { home, boltPort: ports.bolt, httpPort: ports.http, ownerPid: process.pid, deleteHomeOnOwnerExit: true }, 'outage neo4j');
const stopNeo4j = () => neo4jScript('stopNeo4j', { home }, 'outage neo4j');

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'maxtryx-outage-neo4j-'));
  const [bolt, http] = await freePorts(2);
  ports = { bolt: bolt!, http: http! };
  await startNeo4j();
  // The service's own settings (src/store/neo4j.ts): fail fast when Neo4j cannot be reached.
  graph = openGraph({ uri: `bolt://127.0.0.1:${ports.bolt}`, queryTimeoutMs: QUERY_TIMEOUT_MS });
  await applySchema(graph);
  room.create(ALICE);
  room.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  room.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  room.add({ type: 'm.room.member', state_key: BOB, sender: BOB, content: { membership: 'join' } });
  for (let i = 0; i < 20; i++) room.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: `m${i}` } });
  expect((await importLines(graph, room.events)).problems).toEqual([]);
  service = await startTestService({ graph, requestDeadlineMs: DEADLINE_MS });
  await graph.availability!.warmUp(); // as `maxtryx serve` does before it listens
  await registerRoomKeys({ room_id: '!keys:us.test', room_version: '10', servers: new Map([['hs1.test', identity], ['hs2.test', lateIdentity]]) }, service.keyStore, Date.now());
}, 240_000);

afterAll(async () => {
  await service?.close();
  await graph?.driver.close();
  if (home) {
    await stopNeo4j();
    await rm(home, { recursive: true, force: true });
  }
}, 120_000);

const ask = (origin = 'hs1.test', key = identity) =>
  signedPost({
    url: service.url,
    path: missingEventsPath(room.roomId),
    origin,
    key,
    destination: service.serverName,
    body: { latest_events: [room.events[room.events.length - 1]!.event_id], limit: 10 },
  });

it("answers the gate's 503 M_UNAVAILABLE while Neo4j is stopped and starting, /ready 503, and 200 again by itself once it is back", async () => {
  let phase: Phase = 'before';
  const started = performance.now();
  const answers: Answer[] = [];
  const ready: { phase: Phase; status: number }[] = [];
  let running = true;

  const worker = async () => {
    while (running) {
      const sentIn = phase;
      const sent = performance.now();
      const reply = await ask();
      const { errcode, error } = (reply.json as { errcode?: string; error?: string } | undefined) ?? {};
      // An answer counts in the phase it was sent in, unless the phase changed meanwhile (then it is a transition).
      answers.push({
        phase: sentIn === phase ? sentIn : sentIn === 'before' || sentIn === 'stopping' ? 'stopping' : 'starting',
        at: sent - started, status: reply.status, errcode, error, retryAfter: reply.retryAfter, ms: performance.now() - sent,
      });
      await sleep(25);
    }
  };
  const readiness = async () => {
    while (running) {
      const sentIn = phase;
      const reply = await rawRequest({ url: service.opsUrl, method: 'GET', path: '/ready' });
      if (sentIn === phase) ready.push({ phase, status: reply.status });
      await sleep(250);
    }
  };
  const load = [...Array.from({ length: WORKERS }, worker), readiness()];
  /** Until `done`, checked every 50 ms, for at most `capMs`. */
  const until = async (done: () => boolean, capMs: number) => {
    const from = performance.now();
    while (!done() && performance.now() - from < capMs) await sleep(50);
  };
  const count = (p: Phase, status?: number) => answers.filter((a) => a.phase === p && (status === undefined || a.status === status)).length;

  await sleep(5_000);
  await until(() => count('before', 200) >= ANSWERS_PER_PHASE, PHASE_CAP_MS);
  phase = 'stopping';
  await stopNeo4j();
  phase = 'down';
  await sleep(OUTAGE_MS / 2);
  // A server whose keys are stored but not yet in memory: its keys cannot be read, so 503, not 401.
  const lateDown = await ask('hs2.test', lateIdentity);
  await sleep(OUTAGE_MS / 2);
  await until(() => count('down') >= ANSWERS_PER_PHASE && ready.some((r) => r.phase === 'down'), PHASE_CAP_MS);
  phase = 'starting';
  await startNeo4j();
  // Neo4j has logged "Started." and completes a Bolt handshake; it answers queries a little later.
  await answersQueries();
  phase = 'after';
  const back = performance.now();
  await until(() => count('after', 200) > 0, RECOVERY_CAP_MS);
  const firstOk = answers.find((a) => a.phase === 'after' && a.status === 200);
  const readySeen = ready.length;
  // Then long enough to see that nothing but 200s follows, and /ready 200 again.
  await sleep(5_000);
  await until(
    () => count('after', 200) >= ANSWERS_PER_PHASE && ready.slice(readySeen).some((r) => r.phase === 'after' && r.status === 200),
    PHASE_CAP_MS,
  );
  const lateAfter = await ask('hs2.test', lateIdentity);
  running = false;
  await Promise.all(load);

  const report = (['before', 'stopping', 'down', 'starting', 'after'] as const).map((p) => summary(p, answers.filter((a) => a.phase === p)));
  process.stderr.write(
    `Neo4j outage under load (${WORKERS} callers, Neo4j stopped for ${OUTAGE_MS / 1000} s):\n${report.join('\n')}\n` +
      `first 200 ${firstOk ? ((firstOk.at + started - back) / 1000).toFixed(1) : 'never'} s after Neo4j answered again; ` +
      `/ready: ${(['before', 'down', 'after'] as const).map((p) => `${p} ${statuses(ready.filter((r) => r.phase === p))}`).join(', ')}\n`,
  );

  // Only 200 and 503 M_UNAVAILABLE (with Retry-After) are ever answered.
  for (const answer of answers) {
    if (answer.status !== 200) expect([answer.status, answer.errcode, answer.retryAfter]).toEqual([503, 'M_UNAVAILABLE', '2']);
  }
  const inPhase = (p: Phase) => answers.filter((a) => a.phase === p);
  // A walk Neo4j ends at the query timeout is a slow host's answer (a fresh Neo4j under load took 4-7 s a walk), not
  // the outage's: it is the only other answer allowed while Neo4j is up, and it takes the query timeout.
  const slowWalk = (a: Answer) => a.status === 503 && a.ms >= QUERY_TIMEOUT_MS;
  expect(inPhase('before').filter((a) => a.status === 200).length).toBeGreaterThan(10);
  expect(inPhase('before').filter((a) => a.status !== 200 && !slowWalk(a))).toEqual([]);
  // While Neo4j is down: every answer the gate's 503, none waiting for Neo4j (that would take the query timeout or
  // the deadline: the gate answers in milliseconds, see the printed latencies), and /ready 503.
  expect(inPhase('down').length).toBeGreaterThan(10);
  expect(inPhase('down').filter((a) => a.status !== 503 || a.error !== GATE_ERROR)).toEqual([]);
  expect(inPhase('down').filter((a) => a.ms >= QUERY_TIMEOUT_MS)).toEqual([]);
  expect(new Set(ready.filter((r) => r.phase === 'down').map((r) => r.status))).toEqual(new Set([503]));
  // While it starts: the same, none waiting in the starting Neo4j (reads stay stopped until a probe gets through).
  expect(inPhase('starting').length).toBeGreaterThan(10);
  expect(inPhase('starting').filter((a) => a.status !== 503 || a.error !== GATE_ERROR)).toEqual([]);
  expect(inPhase('starting').filter((a) => a.ms >= QUERY_TIMEOUT_MS)).toEqual([]);
  // Back: 200s once Neo4j answers queries, and nothing but 200s after the first.
  expect(firstOk).toBeDefined();
  expect(inPhase('after').filter((a) => a.at >= firstOk!.at && a.status !== 200 && !slowWalk(a))).toEqual([]);
  expect(ready[ready.length - 1]).toEqual({ phase: 'after', status: 200 });
  expect([lateDown.status, (lateDown.json as { errcode?: string }).errcode, lateDown.retryAfter]).toEqual([503, 'M_UNAVAILABLE', '2']);
  expect(lateAfter.status).toBe(200);
  expect(inPhase('after').filter((a) => a.status === 200).length).toBeGreaterThan(10);
}, 600_000);

/** Resolves once the restarted Neo4j reads the room's events again, through a driver of its own. */
async function answersQueries(): Promise<void> {
  const own = openGraph({ uri: `bolt://127.0.0.1:${ports.bolt}` });
  try {
    for (;;) {
      try {
        const { records } = await own.driver.executeQuery('MATCH (e:Event {room_id: $room_id}) RETURN e.event_id LIMIT 1', { room_id: room.roomId }, { database: own.database });
        if (records.length === 1) return;
      } catch {
        // not yet
      }
      await sleep(100);
    }
  } finally {
    await own.driver.close();
  }
}

function summary(phase: Phase, answers: readonly Answer[]): string {
  const ms = answers.map((a) => a.ms).sort((a, b) => a - b);
  const at = (q: number) => (ms.length === 0 ? 0 : ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!);
  return (
    `  ${phase.padEnd(8)} ${String(answers.length).padStart(5)} answers: ${statuses(answers) || '-'}; ` +
    `latency p50 ${at(0.5).toFixed(0)} ms, p99 ${at(0.99).toFixed(0)} ms, max ${(ms[ms.length - 1] ?? 0).toFixed(0)} ms`
  );
}

function statuses(answers: readonly { status: number; errcode?: string }[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const key = a.errcode ? `${a.status} ${a.errcode}` : String(a.status);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort().map(([key, count]) => `${key} x${count}`).join(', ');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
