/**
 * The deployment "Beside Synapse" describes, end to end: two real Synapses (hs-a, hs-b), Debian's nginx in front
 * of hs-a's federation port (hs-a's server name is 127.0.0.1:<nginx's port>) with deploy/nginx/get-missing-events.conf
 * sending get_missing_events to MaxTryX (SERVER_NAME = hs-a's name, UPSTREAM_FEDERATION_URL = hs-a's own federation
 * listener) and the rest to hs-a. hs-a runs on PostgreSQL, which `maxtryx follow` reads as hs-a writes it.
 *
 * What makes a Synapse call get_missing_events at all (synapse/federation/sender/per_destination_queue.py): a
 * destination's queue starts in catch-up mode when the homeserver starts, and catching up sends only the room's
 * latest event. So: hs-b is stopped; alice on hs-a sends messages, a topic change and a redaction; hs-a is
 * restarted while hs-b is down (`federation.max_long_retries: 0` makes the failed sends give up at once); hs-b is
 * started and bob sends a message; hs-a marks hs-b up and catches up with the room's latest event; hs-b lacks its
 * prev_events and asks hs-a's name for them: nginx gives the request to MaxTryX.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeEventId } from '../../src/core/event-hashes';
import { getRoomVersion } from '../../src/core/room-versions';
import { buildDist } from '../helpers/build';
import { freePorts } from '../helpers/free-ports';
import { missingEventsPath } from '../helpers/federation';
import { createHomeserver, sleep, type Homeserver } from '../synapse/helpers/homeserver';
import { federationRequest, MatrixUser } from '../synapse/helpers/matrix-client';
import { ensureSynapseVenv } from '../synapse/helpers/synapse-venv';
import { currentState, timeline, waitForEvents, type ClientEvent, type ClientSession } from './helpers/client';
import { queryGraph } from '../helpers/room-graph';
import { openTestGraph } from '../helpers/graph';
import type { Graph } from '../../src/store/neo4j';
import { startPostgres, type Postgres } from '../synapse/helpers/postgres';
import { counterValue, maxtryxFollower, maxtryxService, type LogLine, type MaxtryxProcess, type MaxtryxService } from './helpers/maxtryx';
import { createNginx, type AccessLogLine, type Nginx } from './helpers/nginx';

type Pdu = Record<string, unknown>;

let dir: string;
let hsA: Homeserver;
let hsB: Homeserver;
let nginx: Nginx;
let maxtryx: MaxtryxService;
let follower: MaxtryxProcess;
let postgres: Postgres;
let graph: Graph;
let alice: MatrixUser;
let bob: MatrixUser;
let aliceSession: ClientSession;
let bobSession: ClientSession;
let nginxPort: number;
let maxtryxPort: number;
let opsPort: number;
let followOpsPort: number;
const timings: string[] = [];

/** The shared room (history visible to members' servers) and the `joined` room hs-b joins late. */
let shared: string;
let joinedOnly: string;
/** What alice sent in the `joined` room before bob joined. */
const beforeBobJoined: string[] = [];

beforeAll(async () => {
  const say = (line: string) => process.stderr.write(`[e2e] ${line}\n`);
  buildDist();
  const venv = await ensureSynapseVenv(say);
  dir = await mkdtemp(join(tmpdir(), 'maxtryx-e2e-'));
  [nginxPort, maxtryxPort, opsPort, followOpsPort] = (await freePorts(4)) as [number, number, number, number];
  graph = await openTestGraph();
  postgres = await startPostgres({ dir: join(dir, 'postgres'), log: say });
  hsA = await createHomeserver({
    python: venv.python,
    dir: join(dir, 'hs-a'),
    postgres: await postgres.createDatabase('synapse_a'),
    serverPort: nginxPort,
    // A send that fails gives up at once (no ten long retries), so the room's events stay unsent to hs-b.
    config: { federation: { destination_min_retry_interval: 500, destination_max_retry_interval: '2s', max_long_retries: 0 } },
  });
  hsB = await createHomeserver({ python: venv.python, dir: join(dir, 'hs-b') });
  // As "Beside Synapse" sets it up: hs-a's server name, and hs-a's own federation listener for what we lack.
  maxtryx = maxtryxService({
    dir,
    port: maxtryxPort,
    opsPort,
    serverName: hsA.serverName,
    env: { DEMO_ROOM_EVENTS: '0', UPSTREAM_FEDERATION_URL: hsA.federationUrl, UPSTREAM_FEDERATION_VERIFY_TLS: 'false' },
  });
  nginx = await createNginx({ dir: join(dir, 'nginx'), port: nginxPort, maxtryx: `127.0.0.1:${maxtryxPort}`, homeserver: hsA.federationUrl });
  follower = maxtryxFollower({ dir, opsPort: followOpsPort, database: hsA.databasePath });
  await Promise.all([hsA.start(), hsB.start(), nginx.start()]);
  // MaxTryX beside hs-a from the start: the follower reads every room hs-a writes, the service answers.
  await follower.start();
  await maxtryx.start();
  const [a, b] = await Promise.all([hsA.register('alice'), hsB.register('bob')]);
  alice = new MatrixUser(hsA.clientUrl, a.userId, a.accessToken);
  bob = new MatrixUser(hsB.clientUrl, b.userId, b.accessToken);
  aliceSession = { clientUrl: hsA.clientUrl, accessToken: a.accessToken };
  bobSession = { clientUrl: hsB.clientUrl, accessToken: b.accessToken };

  shared = await alice.createRoom({ room_version: '10', preset: 'private_chat', name: 'Beside Synapse', invite: [bob.userId] });
  await alice.send(shared, 'before bob joins');
  await bob.join(shared, hsA.serverName);
  await alice.waitForEvent(shared, await bob.send(shared, 'hello from hs-b'));
  await forkFromBothServers(shared);

  joinedOnly = await alice.createRoom({
    room_version: '10',
    preset: 'private_chat',
    name: 'Members only',
    initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }],
  });
  for (const body of ['joined-only 1', 'joined-only 2', 'joined-only 3']) beforeBobJoined.push(await alice.send(joinedOnly, body));
  await alice.invite(joinedOnly, bob.userId);
  await bob.join(joinedOnly, hsA.serverName);
  await alice.waitForEvent(joinedOnly, await bob.send(joinedOnly, 'bob joined late'));
  const welcome = await alice.send(joinedOnly, 'welcome, bob');
  await bob.waitForEvent(joinedOnly, welcome);

  // A service that has run for a while holds hs-b's key (in memory and in Neo4j): it is fetched once here, through
  // nginx, so the timings below measure answering rather than a first key fetch. Until the follower has settled the
  // room's current state after bob's join (at most every second, after the events themselves are stored), hs-b has
  // no joined member as far as MaxTryX's current state knows, and MaxTryX passes the request on to hs-a.
  await followerHolds([welcome]);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const warmUp = await federationRequest({
      url: nginx.url, method: 'POST', path: missingEventsPath(joinedOnly), origin: hsB.serverName, destination: hsA.serverName, key: hsB.signingKey,
      body: { latest_events: [welcome], earliest_events: [], limit: 1, min_depth: 0 },
    });
    if (warmUp.status === 200) break;
    if (warmUp.status !== 403 || Date.now() > deadline) throw new Error(`the warm-up request through nginx: ${warmUp.status} ${JSON.stringify(warmUp.json)}`);
    await sleep(200);
  }
  // Its log line is written once the answer has gone out: the cases below count the lines that follow it.
  while (!(await missingEventsLoggedByMaxtryx()).some((line) => line.status === 200)) {
    if (Date.now() > deadline) throw new Error(`MaxTryX did not log the warm-up request; see ${maxtryx.logPath}`);
    await sleep(100);
  }
}, 600_000);

afterAll(async () => {
  process.stderr.write(`[e2e] timings: ${timings.join('; ')}\n`);
  await Promise.all([maxtryx?.stop(), follower?.stop()]);
  await Promise.all([hsA?.stop(), hsB?.stop(), nginx?.stop()]);
  await postgres?.stop();
  await graph?.driver.close();
  if (process.env.KEEP_E2E_DIR) process.stderr.write(`[e2e] kept ${dir}\n`);
  else if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Alice and bob send at once until the DAG forks (each server builds on what it had) and alice's next event merges it. */
async function forkFromBothServers(roomId: string): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    const [fromAlice, fromBob] = await Promise.all([alice.send(roomId, `at once ${attempt} (hs-a)`), bob.send(roomId, `at once ${attempt} (hs-b)`)]);
    await Promise.all([alice.waitForEvent(roomId, fromBob), bob.waitForEvent(roomId, fromAlice)]);
    const merge = await alice.send(roomId, `merged ${attempt}`);
    await bob.waitForEvent(roomId, merge);
    const pdu = await eventFromHsA(merge);
    const prevEvents = pdu.prev_events as string[];
    if (prevEvents.includes(fromAlice) && prevEvents.includes(fromBob)) return;
  }
  throw new Error(`no fork in ${roomId} after 5 attempts`);
}

/** An event as hs-a serves it over federation, asked as hs-b (straight to hs-a's own listener). */
async function eventFromHsA(eventId: string): Promise<Pdu> {
  const reply = await federationRequest({
    url: hsA.federationUrl,
    method: 'GET',
    path: `/_matrix/federation/v1/event/${encodeURIComponent(eventId)}`,
    origin: hsB.serverName,
    destination: hsA.serverName,
    key: hsB.signingKey,
  });
  const pdus = (reply.json as { pdus?: Pdu[] }).pdus;
  if (reply.status !== 200 || pdus?.length !== 1) throw new Error(`GET event ${eventId} from hs-a: ${reply.status} ${JSON.stringify(reply.json)}`);
  return pdus[0]!;
}

interface Gap {
  /** Per room, what alice sent while hs-b was down, in order. */
  readonly sent: Map<string, string[]>;
  /** The redacted event, in the shared room. */
  readonly redacted: string;
  /** Per room, bob's message after hs-b came back. */
  readonly fromBob: Map<string, string>;
  /** From bob's message to hs-b holding every event of the gap. */
  readonly fillSeconds: number;
  /** nginx's access log lines written during this outage. */
  readonly proxied: AccessLogLine[];
  /** get_missing_events hs-a itself answered during this outage (its access log). */
  readonly handledByHsA: number;
}

/**
 * One outage of hs-b, as in the module comment: while hs-b is down alice sends in both rooms (messages, a topic
 * change, a redaction: 9 events in the shared room, under Synapse's get_missing_events limit of 10, so one request
 * fills the gap), hs-a is stopped, `whileHsAIsStopped` runs (the one-shot import of hs-a's database), hs-a and hs-b
 * start, bob sends, and the test waits until hs-b holds every event of the gap.
 */
async function outage(label: string, whileHsAIsStopped: (sent: ReadonlyMap<string, readonly string[]>) => Promise<void>): Promise<Gap> {
  const logFrom = (await nginx.accessLog()).length;
  const handledBefore = await missingEventsHandledByHsA();
  await hsB.stop();
  const sent = new Map<string, string[]>([[shared, []], [joinedOnly, []]]);
  const record = (roomId: string, eventId: string) => sent.get(roomId)!.push(eventId);
  record(shared, await alice.send(shared, `${label}: while hs-b is down 1`));
  const redacted = await alice.send(shared, `${label}: while hs-b is down 2 (then redacted)`);
  record(shared, redacted);
  record(shared, await alice.send(shared, `${label}: while hs-b is down 3`));
  record(shared, await alice.setState(shared, 'm.room.topic', '', { topic: `${label}: the topic hs-b missed` }));
  record(shared, await alice.send(shared, `${label}: while hs-b is down 4`));
  record(shared, await alice.redact(shared, redacted, 'testing the catch-up'));
  record(shared, await alice.send(shared, `${label}: while hs-b is down 5`));
  record(shared, await alice.send(shared, `${label}: while hs-b is down 6`));
  record(shared, await alice.send(shared, `${label}: while hs-b is down 7`));
  record(joinedOnly, await alice.send(joinedOnly, `${label}: members only, while hs-b is down 1`));
  record(joinedOnly, await alice.send(joinedOnly, `${label}: members only, while hs-b is down 2`));

  await hsA.stop();
  await whileHsAIsStopped(sent);
  await hsA.start();
  await hsB.start();
  const started = Date.now();
  const fromBob = new Map<string, string>();
  for (const roomId of [shared, joinedOnly]) fromBob.set(roomId, await bob.send(roomId, `${label}: hs-b is back`));
  for (const roomId of [shared, joinedOnly]) await waitForEvents(bobSession, roomId, sent.get(roomId)!, 120_000);
  const fillSeconds = (Date.now() - started) / 1000;
  for (const roomId of [shared, joinedOnly]) await alice.waitForEvent(roomId, fromBob.get(roomId)!);
  // nginx, MaxTryX and hs-a write a request's log line once they have answered it, and hs-b may hold the events a
  // moment before that.
  await sleep(1000);
  return {
    sent, redacted, fromBob, fillSeconds,
    proxied: (await nginx.accessLog()).slice(logFrom),
    handledByHsA: (await missingEventsHandledByHsA()) - handledBefore,
  };
}

const isMissingEvents = (line: AccessLogLine) => line.uri.startsWith('/_matrix/federation/v1/get_missing_events/');

/**
 * hs-b's user sees every event hs-a's user sees (from bob's join on, in a `joined` room), the gap in order, and
 * hs-b's state of the room is hs-a's.
 */
async function expectHsBCaughtUp(roomId: string, sent: readonly string[], visibleFromBobsJoin = false): Promise<ClientEvent[]> {
  const [seenByBob, everything] = await Promise.all([timeline(bobSession, roomId), timeline(aliceSession, roomId)]);
  // In the `joined` room bob sees what follows his join, and the m.room.history_visibility event: Synapse judges a
  // change of visibility by the more permissive of the old and new values, and before it the default was `shared`.
  // (His invite reached hs-b out of band, outside the room's timeline.)
  const bobsJoin = everything.findIndex((event) => event.type === 'm.room.member' && event.state_key === bob.userId && event.content.membership === 'join');
  const seenByAlice = visibleFromBobsJoin ? everything.filter((event, i) => i >= bobsJoin || event.type === 'm.room.history_visibility') : everything;
  const ids = (events: ClientEvent[]) => events.map((event) => event.event_id);
  // The gap in order, with nothing between its events (hs-b's own user sent nothing meanwhile).
  const positions = sent.map((eventId) => ids(seenByBob).indexOf(eventId));
  expect(positions).toEqual(sent.map((_, i) => positions[0]! + i));
  // Every event alice sees, bob sees, and no other. (The order of two events at the same depth, the fork's or bob's
  // message beside the gap, follows each server's own arrival order, so only the gap's order is compared.)
  expect(ids(seenByBob).sort()).toEqual(ids(seenByAlice).sort());
  expect(await currentState(bobSession, roomId)).toEqual(await currentState(aliceSession, roomId));
  return seenByBob;
}

/** How many get_missing_events hs-a has answered (its access log: Synapse logs each request it processed). */
async function missingEventsHandledByHsA(): Promise<number> {
  return (await readFile(hsA.logPath, 'utf8')).split('\n').filter((line) => line.includes('Processed request') && line.includes('"POST /_matrix/federation/v1/get_missing_events/')).length;
}

/** Waits until the follower has stored every one of the events (not as placeholders); a generous cap. */
async function followerHolds(eventIds: readonly string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [row] = await queryGraph<{ held: number }>(
      graph,
      'MATCH (e:Event) WHERE e.event_id IN $event_ids AND NOT e:Placeholder RETURN count(e) AS held',
      { event_ids: eventIds },
    );
    if (Number(row!.held) === eventIds.length) return;
    if (Date.now() > deadline) throw new Error(`the follower held ${row!.held} of ${eventIds.length} events after 60 s; see ${follower.logPath}`);
    await sleep(100);
  }
}

const answeredByMaxtryx = (line: AccessLogLine) => line.upstream === `127.0.0.1:${maxtryxPort}`;

/** MaxTryX's log lines of the get_missing_events requests it answered. */
async function missingEventsLoggedByMaxtryx(): Promise<LogLine[]> {
  return (await maxtryx.log()).filter((line) => line.message === 'request' && String(line.path).startsWith('/_matrix/federation/v1/get_missing_events/'));
}

describe('hs-b fills its gap through nginx and MaxTryX', () => {
  let gap: Gap;
  let redactedAfterCatchUp: number;
  let answered: LogLine[];
  let returnedBefore: number;
  let passedBefore: number;

  beforeAll(async () => {
    const loggedBefore = (await missingEventsLoggedByMaxtryx()).length;
    returnedBefore = counterValue(await maxtryx.metrics(), 'maxtryx_missing_events_returned_total');
    // The warm-up may have been passed on, when it came while bob's join was settling.
    passedBefore = counterValue(await maxtryx.metrics(), 'maxtryx_pass_through_requests_total');
    gap = await outage('with MaxTryX', (sent) => followerHolds([...sent.values()].flat()));
    answered = (await missingEventsLoggedByMaxtryx()).slice(loggedBefore);
    timings.push(`gap filled through MaxTryX in ${gap.fillSeconds.toFixed(1)} s (${describeRequests(gap.proxied)})`);
    redactedAfterCatchUp = counterValue(await maxtryx.metrics(), 'maxtryx_missing_events_redacted_total');
  }, 600_000);

  test('nginx gave hs-b\'s get_missing_events to MaxTryX, which answered them 200 with the gap', async () => {
    const requests = gap.proxied.filter(isMissingEvents);
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(requests.map((line) => ({ method: line.method, status: line.status, upstream: line.upstream }))).toEqual(
      requests.map(() => ({ method: 'POST', status: 200, upstream: `127.0.0.1:${maxtryxPort}` })),
    );
    expect(answered.map((line) => ({ status: line.status, origin: line.origin }))).toEqual(requests.map(() => ({ status: 200, origin: hsB.serverName })));
    // The shared room's gap is 9 events; the members-only room's 2.
    const byRoom = Object.fromEntries(answered.map((line) => [String(line.room_id), Number(line.events)]));
    expect(byRoom[shared]).toBeGreaterThanOrEqual(gap.sent.get(shared)!.length - 1);
    const returned = counterValue(await maxtryx.metrics(), 'maxtryx_missing_events_returned_total') - returnedBefore;
    expect(returned).toBe(answered.reduce((sum, line) => sum + Number(line.events), 0));
  });

  test('hs-a handled no get_missing_events, MaxTryX passed none through, and hs-b needed nothing else for the shared room', async () => {
    expect(gap.handledByHsA).toBe(0);
    expect(counterValue(await maxtryx.metrics(), 'maxtryx_pass_through_requests_total')).toBe(passedBefore);
    // The shared room's answer reached events hs-b held, so it asked for no state and no history there. (In the
    // members-only room the walk went on past bob's join, to events whose prev_events hs-b never had: it then asks
    // hs-a for the state there, as it would after hs-a's own answer.)
    const sharedPath = encodeURIComponent(shared);
    const elsewhere = gap.proxied.filter((line) => line.uri.includes(sharedPath) && /\/(state_ids|state|backfill)\//.test(line.uri));
    expect(elsewhere).toEqual([]);
  });

  test('hs-b\'s user sees every message in order, the redaction applied, and hs-b\'s state of the room is hs-a\'s', async () => {
    const seen = await expectHsBCaughtUp(shared, gap.sent.get(shared)!);
    const redacted = seen.find((event) => event.event_id === gap.redacted)!;
    expect(redacted.content).toEqual({});
    const bodies = seen.filter((event) => gap.sent.get(shared)!.includes(event.event_id) && event.type === 'm.room.message').map((event) => event.content.body);
    const down = (n: number) => `with MaxTryX: while hs-b is down ${n}`;
    expect(bodies).toEqual([down(1), undefined, down(3), down(4), down(5), down(6), down(7)]);
    await expectHsBCaughtUp(joinedOnly, gap.sent.get(joinedOnly)!, true);
  });

  test('through nginx, the key endpoint is hs-a\'s and an unsigned get_missing_events gets MaxTryX\'s 401', async () => {
    const keys = await unsigned('GET', '/_matrix/key/v2/server');
    expect(keys.status).toBe(200);
    expect(keys.json).toMatchObject({ server_name: hsA.serverName, verify_keys: { [hsA.signingKey.keyId]: { key: hsA.signingKey.publicKey } } });
    expect(keys.requestId).toBeUndefined();
    const refused = await unsigned('POST', missingEventsPath(shared), '{}');
    expect({ status: refused.status, errcode: (refused.json as { errcode?: string }).errcode }).toEqual({ status: 401, errcode: 'M_UNAUTHORIZED' });
    // MaxTryX names each request (X-Request-Id, in its log too); Synapse does not.
    expect(refused.requestId).toMatch(/^[0-9a-f-]{36}$/);
    // Its log line is written when the answer has gone out: wait for it, with a generous cap.
    const logged = async () => (await maxtryx.log()).some((line) => line.request_id === refused.requestId && line.status === 401);
    for (const deadline = Date.now() + 10_000; !(await logged()) && Date.now() < deadline;) await sleep(100);
    expect(await logged()).toBe(true);
  });

  test('in the `joined` room, what hs-b may not see goes out redacted exactly as hs-a itself sends it', async () => {
    // hs-b's own request went back past bob's join: MaxTryX sent the members-only messages before it redacted.
    expect(redactedAfterCatchUp).toBeGreaterThanOrEqual(1);
    const latest = gap.sent.get(joinedOnly)!.at(-1)!;
    const passedBefore = counterValue(await maxtryx.metrics(), 'maxtryx_pass_through_requests_total');
    const body = { latest_events: [latest], earliest_events: [], limit: 20, min_depth: 0 };
    const ask = (url: string) => federationRequest({
      url, method: 'POST', path: missingEventsPath(joinedOnly), origin: hsB.serverName, destination: hsA.serverName, key: hsB.signingKey, body,
    });
    const [throughProxy, fromHsA] = await Promise.all([ask(nginx.url), ask(hsA.federationUrl)]);
    expect([throughProxy.status, fromHsA.status]).toEqual([200, 200]);
    const byId = (reply: { json: unknown }) => Object.fromEntries(
      ((reply.json as { events: Pdu[] }).events).map((pdu) => [eventIdOf(pdu), withoutUnsigned(pdu)]),
    );
    const ours = byId(throughProxy);
    expect(ours).toEqual(byId(fromHsA));
    for (const eventId of beforeBobJoined) expect({ eventId, content: ours[eventId]?.content }).toEqual({ eventId, content: {} });
    // Answered by MaxTryX from its graph, not passed through to hs-a.
    const last = (await nginx.accessLog()).filter(isMissingEvents).at(-1)!;
    expect(last.upstream).toBe(`127.0.0.1:${maxtryxPort}`);
    expect(counterValue(await maxtryx.metrics(), 'maxtryx_pass_through_requests_total')).toBe(passedBefore);
  });
});

describe('with MaxTryX behind hs-a (the follower stopped), the pass-through keeps hs-b correct', () => {
  let gap: Gap;
  let passedBefore: number;

  beforeAll(async () => {
    await follower.stop();
    passedBefore = counterValue(await maxtryx.metrics(), 'maxtryx_pass_through_requests_total');
    gap = await outage('MaxTryX behind', async () => {});
    timings.push(`gap filled with MaxTryX behind (passed through) in ${gap.fillSeconds.toFixed(1)} s (${describeRequests(gap.proxied)})`);
    await follower.start();
  }, 600_000);

  test('nginx gave the requests to MaxTryX, which lacked their latest events and passed them to hs-a unchanged', async () => {
    const requests = gap.proxied.filter(isMissingEvents);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests.map((line) => ({ status: line.status, byMaxtryx: answeredByMaxtryx(line) }))).toEqual(requests.map(() => ({ status: 200, byMaxtryx: true })));
    // Each went on to hs-a, which accepted the signature (hs-b signed the URI nginx and MaxTryX passed on) and answered.
    const passed = counterValue(await maxtryx.metrics(), 'maxtryx_pass_through_requests_total') - passedBefore;
    expect(passed).toBe(requests.length);
    expect(gap.handledByHsA).toBe(requests.length);
  });

  test('hs-b\'s user sees every message in order, and hs-b\'s state of the rooms is hs-a\'s', async () => {
    await expectHsBCaughtUp(shared, gap.sent.get(shared)!);
    await expectHsBCaughtUp(joinedOnly, gap.sent.get(joinedOnly)!, true);
  });
});

describe('the baseline: nginx without the MaxTryX location, hs-a answers alone', () => {
  let gap: Gap;

  beforeAll(async () => {
    await nginx.stop();
    nginx = await createNginx({ dir: join(dir, 'nginx-baseline'), port: nginxPort, homeserver: hsA.federationUrl });
    await nginx.start();
    gap = await outage('hs-a alone', async () => {});
    timings.push(`gap filled by hs-a alone in ${gap.fillSeconds.toFixed(1)} s (${describeRequests(gap.proxied)})`);
  }, 600_000);

  test('hs-a answered hs-b\'s get_missing_events, and hs-b caught up', async () => {
    const requests = gap.proxied.filter(isMissingEvents);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests.filter(answeredByMaxtryx)).toEqual([]);
    expect(gap.handledByHsA).toBe(requests.length);
    await expectHsBCaughtUp(shared, gap.sent.get(shared)!);
    await expectHsBCaughtUp(joinedOnly, gap.sent.get(joinedOnly)!, true);
  });
});

/** A request to nginx with no X-Matrix signature: its status, JSON body and X-Request-Id header. */
function unsigned(method: string, path: string, body?: string): Promise<{ status: number; json: unknown; requestId: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: nginxPort, method, path, rejectUnauthorized: false, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const requestId = res.headers['x-request-id'];
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown, requestId: typeof requestId === 'string' ? requestId : undefined });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A short account of what hs-b asked through nginx during an outage (for the timings line). */
function describeRequests(lines: readonly AccessLogLine[]): string {
  const missing = lines.filter(isMissingEvents);
  return `${missing.length} get_missing_events, answered in ${missing.map((line) => `${(line.seconds * 1000).toFixed(0)} ms by ${answeredByMaxtryx(line) ? 'MaxTryX' : 'hs-a'}`).join(', ')}`;
}

function withoutUnsigned(pdu: Pdu): Pdu {
  const { unsigned: _unsigned, ...rest } = pdu;
  return rest;
}

/** Event IDs of room version 10 PDUs: the URL-safe reference hash. */
function eventIdOf(pdu: Pdu): string {
  return computeEventId(pdu, getRoomVersion('10')!)!;
}
