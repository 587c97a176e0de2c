/**
 * npm run bench -- synapse: the service beside a real Synapse 1.163 on PostgreSQL, on the same room and the same
 * signed requests (a benchmark: it prints figures and asserts only that both sides answered). Run through jest for
 * the Synapse harness of test/synapse/helpers (SECONDS=10 ROUNDS=500 CONNECTIONS=1,16,64 in the environment).
 *
 * hs1 (the measured Synapse, on our PostgreSQL 15) and hs2 (its peer, SQLite): alice on hs1 makes a room, bob on hs2
 * joins, then both send at once, ROUNDS times two messages each and waiting for the other's, so the room (about
 * 2,000 events) forks wherever the two servers built on what they had. The room is read from hs1's database and imported into a throw-away Neo4j,
 * and the service runs as `npm start` runs it with hs1's server name, so one set of requests signed by hs2 serves
 * both. Rate limits are raised on both sides (one peer sends all the load): Synapse's rc_federation sleep and reject
 * limits and ours (RC_FEDERATION_SLEEP_LIMIT, RC_FEDERATION_REJECT_LIMIT); the concurrency per origin stays 3 and
 * both keep one walk at a time per (origin, room). Synapse is asked over its TLS federation listener (keep-alive
 * connections: one handshake each), the service over plain HTTP, as each is deployed behind a proxy.
 *
 * Before the load, each request is sent once to both and the answers compared (status, events and their order, the
 * PDUs); the differences are classified. Then for each connection count, each side: requests/s, p50, p99 and CPU per
 * request of the app and its database (Synapse's python + every PostgreSQL process; node + Neo4j), from /proc.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuWindow, ed25519VerificationsPerSecond, loadAverage, pidListeningOn, processTree } from '../../src/bench/host';
import { startServiceProcess, type ServiceProcess } from '../../src/bench/service-process';
import { canonicalJson } from '../../src/core/canonical-json';
import { computeEventId } from '../../src/core/event-hashes';
import type { SigningKey } from '../../src/core/signing';
import { getRoomVersion } from '../../src/core/room-versions';
import { signRequest } from '../../src/core/x-matrix';
import { Importer } from '../../src/importer/importer';
import { synapsePduLines } from '../../src/importer/synapse-source';
import { registerRoomKeys } from '../../src/service/demo-room';
import { loadCypher } from '../../src/store/cypher-files';
import { EventStore, walkBatchParameters } from '../../src/store/event-store';
import { Neo4jServerKeyStore } from '../../src/store/server-key-store';
import { openTestGraph } from '../helpers/graph';
import { testNeo4j } from '../helpers/neo4j';
import { createHomeserver } from './helpers/homeserver';
import { federationRequest, MatrixUser } from './helpers/matrix-client';
import { startPostgres } from './helpers/postgres';
import { ensureSynapseVenv } from './helpers/synapse-venv';

const SECONDS = Number(process.env.SECONDS ?? 10);
const ROUNDS = Number(process.env.ROUNDS ?? 500);
const CONNECTIONS = (process.env.CONNECTIONS ?? '1,16,64').split(',').map(Number);
const WARMUP_SECONDS = Number(process.env.WARMUP_SECONDS ?? 20);
const LIMIT = 10;
const RAISED = { window_size: 1000, sleep_limit: 1_000_000, sleep_delay: 500, reject_limit: 1_000_000, concurrent: 3 };
type Pdu = Record<string, unknown>;

interface Shape {
  readonly path: string;
  readonly body: string;
  readonly authorization: string;
  readonly latest: string;
  readonly signer: { readonly origin: string; readonly destination: string; readonly key: SigningKey };
}

interface Side {
  readonly name: string;
  readonly url: string;
  /** The processes whose CPU counts: the app first, then its database. */
  pids(): { app: number[]; database: number[] };
}

interface Row {
  readonly side: string;
  readonly connections: number;
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly appCpuMs: number;
  readonly databaseCpuMs: number;
  readonly errors: number;
  readonly busyPercent: number;
  readonly load: number;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

test('Synapse beside the service: the same signed requests on the same room', async () => {
  // Synapse's federation listener has the test's self-signed certificate.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  const venv = await ensureSynapseVenv(log);
  const dir = await mkdtemp(join(tmpdir(), 'maxtryx-bench-synapse-'));
  const pg = await startPostgres({ dir: join(dir, 'pg'), log });
  const database = await pg.createDatabase('synapse_bench');
  const hs1 = await createHomeserver({ python: venv.python, dir: join(dir, 'hs1'), postgres: database, config: { rc_federation: RAISED } });
  const hs2 = await createHomeserver({ python: venv.python, dir: join(dir, 'hs2'), config: { rc_federation: RAISED } });
  const graph = await openTestGraph();
  let service: ServiceProcess | undefined;
  try {
    await Promise.all([hs1.start(), hs2.start()]);
    const [a, b] = await Promise.all([hs1.register('alice'), hs2.register('bob')]);
    const alice = new MatrixUser(hs1.clientUrl, a.userId, a.accessToken);
    const bob = new MatrixUser(hs2.clientUrl, b.userId, b.accessToken);

    const building = Date.now();
    const roomId = await alice.createRoom({ room_version: '10', preset: 'private_chat', name: 'bench', invite: [bob.userId] });
    await bob.join(roomId, hs1.serverName);
    let lastOfAlice = '';
    let lastOfBob = '';
    // Each round, both servers send two messages at once, each building on what it has (a fork), then each waits
    // for the other's: sending on without waiting puts hs2 in Synapse's federation catch-up, where it sends hs1 only
    // its newest events and hs1 fetches at most 10 missing ones, leaving gaps in its copy of the room.
    const twoFrom = async (user: MatrixUser, round: number) => {
      await user.send(roomId, `${user.userId} ${round}.1`);
      return user.send(roomId, `${user.userId} ${round}.2`);
    };
    let stalls = 0;
    for (let round = 0; round < ROUNDS; round++) {
      [lastOfAlice, lastOfBob] = await Promise.all([twoFrom(alice, round), twoFrom(bob, round)]);
      // A round whose events do not cross within 30 s (federation backing off) is counted, not fatal.
      await Promise.all([alice.waitForEvent(roomId, lastOfBob), bob.waitForEvent(roomId, lastOfAlice)]).catch(() => (stalls += 1));
    }
    if (stalls > 0) log(`${stalls} rounds whose events did not reach the other server within 30 s`);
    const last = await alice.send(roomId, 'the last message');
    await bob.waitForEvent(roomId, last);
    log(`room ${roomId}: ${4 * ROUNDS + 8} events or so made through the client API in ${((Date.now() - building) / 1000).toFixed(0)} s`);

    // The room as hs1 stored it, into our Neo4j, once hs1 has persisted all of it: under forks it receives some of
    // hs2's events before their prev events, which it then fetches (get_missing_events) and persists later.
    let lines: string[] = [];
    for (let steady = 0, waited = 0; steady < 3 && waited < 120; waited += 2) {
      const read: string[] = [];
      for await (const line of synapsePduLines(database, [roomId], {})) read.push(line);
      steady = read.length === lines.length ? steady + 1 : 0;
      lines = read;
      if (steady < 3) await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    const importer = new Importer(new EventStore(graph));
    await importer.importLines(lines, 'synapse');
    const summary = await importer.finish();
    const version = getRoomVersion('10')!;
    const pdus = lines.map((line) => JSON.parse(line) as Pdu);
    const forks = pdus.filter((pdu) => (pdu.prev_events as unknown[]).length > 1).length;
    log(`imported ${summary.stored} events (${summary.rejected} rejected, ${summary.skipped} skipped, ${summary.statePending} waiting for a gap); ${forks} events merge a fork`);
    await registerRoomKeys({ room_id: roomId, room_version: '10', servers: new Map([[hs2.serverName, hs2.signingKey]]) }, new Neo4jServerKeyStore(graph), Date.now());

    const neo4j = testNeo4j();
    service = await startServiceProcess({
      NEO4J_URI: neo4j.uri, NEO4J_USER: neo4j.user, NEO4J_PASSWORD: neo4j.password, ...(neo4j.database ? { NEO4J_DATABASE: neo4j.database } : {}),
      SERVER_NAME: hs1.serverName, LOG_LEVEL: 'info', RC_FEDERATION_SLEEP_LIMIT: '1000000', RC_FEDERATION_REJECT_LIMIT: '1000000',
    });
    const neo4jPid = pidListeningOn(Number(new URL(neo4j.uri).port));
    // Synapse writes its pid file only when it daemonizes: the process is found by its federation port.
    const synapsePid = pidListeningOn(Number(new URL(hs1.federationUrl).port));
    if (synapsePid === undefined) throw new Error(`no process found listening on ${hs1.federationUrl}`);
    const postmasterPid = Number(readFileSync(join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

    // 200 requests: walks back from events spread over the room's newer half, signed once by hs2 for hs1's name.
    const ids = pdus.map((pdu) => computeEventId(pdu, version)!);
    const path = `/_matrix/federation/v1/get_missing_events/${encodeURIComponent(roomId)}`;
    const shapes: Shape[] = [];
    for (let i = 0; i < 200; i++) {
      const latest = ids[ids.length - 1 - Math.floor((i * ids.length) / 400)]!;
      const content = { latest_events: [latest], earliest_events: [], limit: LIMIT, min_depth: 0 };
      const authorization = signRequest({ method: 'POST', uri: path, origin: hs2.serverName, destination: hs1.serverName, content, key: hs2.signingKey });
      shapes.push({ path, body: JSON.stringify(content), authorization, latest, signer: { origin: hs2.serverName, destination: hs1.serverName, key: hs2.signingKey } });
    }
    const synapse: Side = { name: 'Synapse', url: hs1.federationUrl, pids: () => ({ app: [synapsePid], database: processTree(postmasterPid) }) };
    const ours: Side = { name: 'MaxTryX', url: `http://127.0.0.1:${service.port}`, pids: () => ({ app: [service!.pid], database: neo4jPid === undefined ? [] : [neo4jPid] }) };

    const prevs = new Map(pdus.map((pdu, i) => [ids[i]!, (pdu.prev_events as string[])]));
    const store = new EventStore(graph);
    const hits: number[] = [];
    for (const shape of shapes.slice(0, 20)) {
      hits.push(await store.walkDbHits({ room_id: roomId, ...(JSON.parse(shape.body) as { latest_events: string[]; earliest_events: string[]; limit: number; min_depth: number }) }, hs2.serverName));
    }
    log(`walk.cypher database hits (PROFILE, 20 of the requests): ${Math.min(...hits)}-${Math.max(...hits)}, mean ${(hits.reduce((a, b) => a + b, 0) / hits.length).toFixed(0)}`);
    if (process.env.BENCH_PLAN) {
      // The costliest of those walks, operator by operator (PROFILE), for where the database hits go.
      const worst = shapes[hits.indexOf(Math.max(...hits))]!;
      const body = JSON.parse(worst.body) as { latest_events: string[]; earliest_events: string[]; limit: number; min_depth: number };
      const session = graph.driver.session({ database: graph.database });
      try {
        const { summary: profiled } = await session.run(`PROFILE ${loadCypher(['walk']).walk}`, walkBatchParameters([{
          origin: hs2.serverName, request: { room_id: roomId, latest_events: body.latest_events, earliest_events: [], min_depth: 0, limit: body.limit },
        }]));
        const lines: string[] = [];
        const visit = (plan: { operatorType: string; dbHits: number; rows: number; arguments: Record<string, unknown>; children: unknown[] }, depth: number) => {
          lines.push(`${' '.repeat(depth)}${plan.operatorType} dbHits ${plan.dbHits} rows ${plan.rows} ${String(plan.arguments.Details ?? '').slice(0, 160)}`);
          for (const child of plan.children) visit(child as typeof plan, depth + 1);
        };
        visit(profiled.profile as unknown as Parameters<typeof visit>[0], 0);
        log(`latest ${body.latest_events[0]}, depth ${pdus[ids.indexOf(body.latest_events[0]!)]?.depth}:\n${lines.join('\n')}`);
      } finally {
        await session.close();
      }
    }
    const compared = await compare(shapes, synapse, ours, version, prevs);
    log(`answers: ${JSON.stringify(compared)}`);
    expect(compared.bothOk).toBe(shapes.length);

    // Both warm before any figure: a fresh Neo4j compiles the walk's plan and JIT-compiles it under load (the
    // first seconds cost it several times the CPU of a warm walk), Synapse fills its caches.
    for (const side of [synapse, ours]) await load(side, shapes, 16, WARMUP_SECONDS);
    const speed = ed25519VerificationsPerSecond();
    const rows: Row[] = [];
    for (const connections of CONNECTIONS) {
      for (const side of [synapse, ours]) {
        await load(side, shapes, connections, 3);
        const { app, database: db } = side.pids();
        const window = new CpuWindow([...app, ...db]);
        const run = await load(side, shapes, connections, SECONDS);
        const used = window.stop();
        const sum = (pids: number[]) => pids.reduce((total, pid) => total + (used.cpuSeconds.get(pid) ?? 0), 0);
        const per = (seconds: number) => (1000 * seconds) / Math.max(1, run.requests);
        rows.push({
          side: side.name, connections, rate: run.rate, p50: run.p50, p99: run.p99, errors: run.errors,
          appCpuMs: per(sum(app)), databaseCpuMs: per(sum(db)), busyPercent: used.busyPercent, load: used.load,
        });
        log(describe(rows[rows.length - 1]!));
      }
    }
    log(`\nmachine: ${speed.toFixed(0)} ed25519 verifications/s; load now ${loadAverage()}; Synapse ${venv.version}; room ${summary.stored} events, ${forks} fork merges; limit ${LIMIT}`);
    log(table(rows));
  } finally {
    await service?.stop();
    await Promise.all([hs1.stop(), hs2.stop()]);
    await pg.stop();
    await graph.driver.close();
    await rm(dir, { recursive: true, force: true });
  }
}, 3_600_000);

function describe(row: Row): string {
  return (
    `${row.side} c=${row.connections}: ${row.rate.toFixed(1)} req/s, p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, ` +
    `CPU/request ${(row.appCpuMs + row.databaseCpuMs).toFixed(2)} ms (app ${row.appCpuMs.toFixed(2)} + database ${row.databaseCpuMs.toFixed(2)}), ` +
    `${row.errors} errors; machine ${row.busyPercent.toFixed(0)}% busy, load ${row.load.toFixed(2)}`
  );
}

function table(rows: readonly Row[]): string {
  const lines = ['| connections | side | req/s | p50 ms | p99 ms | CPU ms/request (app + db) | busy % | ratio (ours/Synapse req/s, CPU) |', '|---|---|---|---|---|---|---|---|'];
  for (const row of rows) {
    const other = rows.find((r) => r.connections === row.connections && r.side !== row.side)!;
    const ratio = row.side === 'MaxTryX'
      ? `${(row.rate / other.rate).toFixed(2)}x, ${((row.appCpuMs + row.databaseCpuMs) / (other.appCpuMs + other.databaseCpuMs)).toFixed(2)}x`
      : '';
    lines.push(
      `| ${row.connections} | ${row.side} | ${row.rate.toFixed(1)} | ${row.p50.toFixed(1)} | ${row.p99.toFixed(1)} | ` +
        `${(row.appCpuMs + row.databaseCpuMs).toFixed(2)} (${row.appCpuMs.toFixed(2)} + ${row.databaseCpuMs.toFixed(2)}) | ${row.busyPercent.toFixed(0)} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Each request once to both sides: how many both answered 200; how many with the same events (in the same order,
 * or in another: Synapse sends the reverse of the order its walk found them, we send oldest first); and the others
 * by kind: Synapse returning a latest event; the two differing only in the last level reached (breadth-first
 * distance from latest_events), cut differently when it held more than the limit left; or differing below it
 * (Synapse's walk asks each event's prev events with `LIMIT` the room left, so it can pass over an event of a level
 * it did not finish). And whether the PDUs both returned are identical (canonical JSON, `unsigned` aside).
 */
async function compare(
  shapes: readonly Shape[], synapse: Side, ours: Side, version: NonNullable<ReturnType<typeof getRoomVersion>>, prevs: ReadonlyMap<string, readonly string[]>,
) {
  const counts = { bothOk: 0, sameEventsSameOrder: 0, sameEventsOtherOrder: 0, synapseReturnsLatest: 0, lastLevelCutDifferently: 0, perEventLimit: 0, pdusCompared: 0, pdusDiffering: 0 };
  // federationRequest signs again, with the same key and content: ed25519 signatures are deterministic, so the
  // header is the one the load sends.
  const ask = async (side: Side, shape: Shape) => {
    const reply = await federationRequest({ url: side.url, method: 'POST', path: shape.path, ...shape.signer, body: JSON.parse(shape.body) as unknown });
    return { status: reply.status, events: (reply.json as { events?: Pdu[] }).events ?? [] };
  };
  for (const shape of shapes) {
    const [theirs, mine] = [await ask(synapse, shape), await ask(ours, shape)];
    if (theirs.status !== 200 || mine.status !== 200) continue;
    counts.bothOk += 1;
    const idsOf = (events: Pdu[]) => events.map((pdu) => computeEventId(pdu, version)!);
    const [a, b] = [idsOf(theirs.events), idsOf(mine.events)];
    const mineById = new Map(b.map((id, i) => [id, mine.events[i]!]));
    a.forEach((id, i) => {
      const other = mineById.get(id);
      if (other === undefined) return;
      counts.pdusCompared += 1;
      const strip = ({ unsigned: _unsigned, ...rest }: Pdu) => canonicalJson(rest);
      if (strip(theirs.events[i]!) !== strip(other)) {
        if (counts.pdusDiffering === 0) log(`first differing PDU:\n Synapse ${strip(theirs.events[i]!)}\n ours    ${strip(other)}`);
        counts.pdusDiffering += 1;
      }
    });
    if (a.join() === b.join()) counts.sameEventsSameOrder += 1;
    else if ([...a].sort().join() === [...b].sort().join()) counts.sameEventsOtherOrder += 1;
    else if (a.includes(shape.latest)) counts.synapseReturnsLatest += 1;
    else {
      const level = levels(shape.latest, prevs);
      const deepest = Math.max(...[...a, ...b].map((id) => level.get(id) ?? Infinity));
      const onlyOneSide = [...a.filter((id) => !b.includes(id)), ...b.filter((id) => !a.includes(id))];
      if (onlyOneSide.every((id) => level.get(id) === deepest)) counts.lastLevelCutDifferently += 1;
      else counts.perEventLimit += 1;
    }
  }
  return counts;
}

/** Each event's breadth-first distance from `latest` through prev_events (its prev events are level 1). */
function levels(latest: string, prevs: ReadonlyMap<string, readonly string[]>): Map<string, number> {
  const level = new Map<string, number>([[latest, 0]]);
  let frontier = [latest];
  for (let depth = 1; frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const prev of prevs.get(id) ?? []) {
        if (level.has(prev)) continue;
        level.set(prev, depth);
        next.push(prev);
      }
    }
    frontier = next;
  }
  return level;
}

async function load(side: Side, shapes: readonly Shape[], connections: number, seconds: number) {
  let errors = 0;
  let next = 0;
  const result = await autocannon({
    url: side.url,
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (request: autocannon.Request) => {
          const shape = shapes[next++ % shapes.length]!;
          return { ...request, method: 'POST', path: shape.path, headers: { 'content-type': 'application/json', authorization: shape.authorization }, body: shape.body };
        },
        onResponse: (status: number) => {
          if (status !== 200) errors += 1;
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    errors: errors + result.errors + result.timeouts,
    rate: result.requests.total / (result.duration || seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}
