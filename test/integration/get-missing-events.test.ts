/**
 * POST /_matrix/federation/v1/get_missing_events/{roomId} end to end: the app as main.ts wires it, on a real
 * listener, against the real Neo4j, with the real key fetcher and Neo4j key store. Requests are signed with
 * X-Matrix as other homeservers sign them.
 *
 * The `.test` servers' keys are stored in Neo4j with registerRoomKeys, as `npm start` does for the demo room, so
 * the key fetcher finds them without a network. They are one fresh key per server name for the whole file, not
 * each room's generated keys: the key fetcher holds one key set per server name, and rooms of distinct seeds give
 * `hs2.test` distinct keys under the same key ID. The service never checks PDU signatures, so which key signed a
 * room's events does not matter to it. Those key fetchers never re-fetch within the run (`.test` cannot be
 * reached); the loopback HTTPS test has its own service that does fetch.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { decodeBase64 } from '../../src/core/base64';
import { canonicalJson } from '../../src/core/canonical-json';
import { generateSigningKey, signBytes, signJson, type SigningKey } from '../../src/core/signing';
import { authorizationHeader, requestSigningBytes, signRequest } from '../../src/core/x-matrix';
import { generateRoom, roomBuilderFor } from '../../src/generator/generate-room';
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { registerRoomKeys } from '../../src/service/demo-room';
import type { Graph } from '../../src/store/neo4j';
import {
  missingEventsPath,
  rawRequest,
  signedPost,
  startTestService,
  type Reply,
  type TestService,
} from '../helpers/federation';
import { importLines, openTestGraph } from '../helpers/graph';
import { prevEventIds, referenceWalk, type ReferenceRequest } from '../helpers/reference-walk';

const TLS_DIR = join(__dirname, '..', 'fixtures', 'tls');
const CERTIFICATE = readFileSync(join(TLS_DIR, 'localhost.crt'), 'utf8');
const PRIVATE_KEY = readFileSync(join(TLS_DIR, 'localhost.key'), 'utf8');
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

const ALICE = '@alice:hs1.test';
const BOB = '@bob:hs2.test';
const CAROL = '@carol:hs3.test';
const IP_ORIGIN = '192.0.2.7';
const IP_USER = `@ip:${IP_ORIGIN}`;
const REMOTE_SERVERS = ['hs1.test', 'hs2.test', 'hs3.test', 'hs4.test', IP_ORIGIN];

let graph: Graph;
/** The service most tests call. */
let service: TestService;
/** The same, with BODY_LIMIT_BYTES 2048. */
let smallBodyService: TestService;
/** The key each remote server signs its requests with, as the service was told it. */
const identities = new Map<string, SigningKey>();

beforeAll(async () => {
  graph = await openTestGraph();
  const noRefetch = { minRefetchIntervalMs: HOUR };
  service = await startTestService({ graph, keyFetcherOptions: noRefetch });
  smallBodyService = await startTestService({ graph, bodyLimitBytes: 2048, keyFetcherOptions: noRefetch });
  for (const name of REMOTE_SERVERS) identities.set(name, generateSigningKey(`t${Math.random().toString(36).slice(2, 10)}`));
  await registerRoomKeys({ room_id: '!keys:us.test', room_version: '10', servers: identities }, service.keyStore, Date.now());
});

afterAll(async () => {
  await service?.close();
  await smallBodyService?.close();
  await graph?.driver.close();
});

// ---------------------------------------------------------------------------------------------------------------
// Rooms and requests

/** A room with alice (hs1.test) as creator and member, power levels and public join rules. */
function room(seed: string, version = '10', createContent: Record<string, unknown> = {}): RoomBuilder {
  const builder = new RoomBuilder(version, `get-missing-events/${seed}`);
  builder.create(ALICE, createContent);
  builder.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  builder.add({ type: 'm.room.power_levels', state_key: '', sender: ALICE, content: { users: { [ALICE]: 100 } } });
  builder.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  return builder;
}

function member(builder: RoomBuilder, user: string, membership = 'join'): BuiltEvent {
  return builder.add({ type: 'm.room.member', state_key: user, sender: user, content: { membership } });
}

function message(builder: RoomBuilder, body: string, prev?: readonly BuiltEvent[], sender = ALICE): BuiltEvent {
  return builder.add({ type: 'm.room.message', sender, content: { msgtype: 'm.text', body }, ...(prev ? { prev } : {}) });
}

function state(builder: RoomBuilder, type: string, content: Record<string, unknown>): BuiltEvent {
  return builder.add({ type, state_key: '', sender: ALICE, content });
}

/** Imports the events (all of the room's by default; ones already stored are left as they are). */
async function store(events: readonly BuiltEvent[]): Promise<void> {
  const { problems } = await importLines(graph, events);
  expect(problems).toEqual([]);
}

/** The PDU exactly as imported: test/helpers/graph.ts imports JSON.stringify(pdu). */
function line(event: BuiltEvent): string {
  return JSON.stringify(event.pdu);
}

/** A get_missing_events request signed by `origin` with its registered key. */
function ask(roomId: string, origin: string, body: unknown, to: TestService = service): Promise<Reply> {
  return signedPost({ url: to.url, path: missingEventsPath(roomId), origin, key: identities.get(origin)!, destination: to.serverName, body });
}

/** A 200 whose body is exactly `{"events":[...]}` with these events' imported PDUs, in this order. */
function expectEvents(reply: Reply, expected: readonly BuiltEvent[], known: readonly BuiltEvent[] = expected): void {
  const idByLine = new Map(known.map((event) => [line(event), event.event_id]));
  const returned = ((reply.json as { events?: unknown[] } | undefined)?.events ?? []).map(
    (pdu) => idByLine.get(JSON.stringify(pdu)) ?? `(not an expected event) ${JSON.stringify(pdu).slice(0, 100)}`,
  );
  expect({ status: reply.status, events: returned }).toEqual({ status: 200, events: expected.map((event) => event.event_id) });
  expect(reply.text).toBe(`{"events":[${expected.map(line).join(',')}]}`);
}

/** A Matrix error: this status, a body of exactly `errcode` and `error`, and (when given) this exact message. */
function expectError(reply: Reply, status: number, errcode: string, error?: string): void {
  const body = reply.json as Record<string, unknown> | undefined;
  expect({ status: reply.status, keys: Object.keys(body ?? {}).sort(), errcode: body?.errcode }).toEqual({
    status,
    keys: ['errcode', 'error'],
    errcode,
  });
  expect(typeof body?.error).toBe('string');
  if (error !== undefined) expect(body?.error).toBe(error);
}

// ---------------------------------------------------------------------------------------------------------------

describe.each(['1', '10', '11'])('a generated room of version %s (300 events, 4 servers)', (version) => {
  let events: BuiltEvent[];
  let roomId: string;
  /** The events of another generated room, which must never appear. */
  let otherRoom: BuiltEvent[];

  beforeAll(async () => {
    const options = { events: 300, roomVersion: version, seed: `get-missing-events/generated/v${version}`, servers: 4 };
    const builder = roomBuilderFor(options);
    events = [...generateRoom(options, builder)];
    roomId = builder.roomId;
    const other = { ...options, events: 40, seed: `${options.seed}/other` };
    otherRoom = [...generateRoom(other, roomBuilderFor(other))];
    await store(events);
    await store(otherRoom);
  });

  const newest = () => events.reduce((a, b) => (b.depth > a.depth ? b : a));
  /** The newest event that merges branches of unequal lengths, and the tips it merges. */
  const lastMerge = () => {
    const merge = [...events].reverse().find((event) => {
      const depths = prevEventIds(event).map((id) => events.find((e) => e.event_id === id)?.depth);
      return depths.length >= 2 && new Set(depths).size > 1;
    })!;
    const tips = prevEventIds(merge).map((id) => events.find((event) => event.event_id === id)!);
    return { merge, tips };
  };

  async function check(body: Omit<ReferenceRequest, 'room_id' | 'limit'> & { limit?: number }, origin = 'hs2.test'): Promise<BuiltEvent[]> {
    const expected = referenceWalk(events, { room_id: roomId, ...body, limit: Math.min(body.limit ?? 10, 20) });
    expectEvents(await ask(roomId, origin, body), expected, [...events, ...otherRoom]);
    return expected;
  }

  it('has the forks and merges the requests below rely on', () => {
    expect(events).toHaveLength(300);
    expect(lastMerge().tips.length).toBeGreaterThanOrEqual(2);
    expect(new Set(lastMerge().tips.map((tip) => tip.event_id)).size).toBe(lastMerge().tips.length);
  });

  it('walks back from the newest event: limit 5, 20, and 50 clamped to 20', async () => {
    const latest_events = [newest().event_id];
    expect(await check({ latest_events, limit: 5 })).toHaveLength(5);
    const twenty = await check({ latest_events, limit: 20 }, 'hs3.test');
    expect(twenty).toHaveLength(20);
    expect(await check({ latest_events, limit: 50 }, 'hs4.test')).toEqual(twenty);
  });

  it('walks back from an event in the middle, with the default limit of 10', async () => {
    const middle = events[150]!;
    const found = await check({ latest_events: [middle.event_id] });
    expect(found).toHaveLength(10);
    expect(found.every((event) => event.depth < middle.depth)).toBe(true);
  });

  it('walks back from two latest events on different branches, ignoring unknown IDs and other rooms', async () => {
    const { tips } = lastMerge();
    const found = await check({
      latest_events: [...tips.map((tip) => tip.event_id), '$unknown:hs1.test', otherRoom[otherRoom.length - 1]!.event_id],
      limit: 20,
    });
    expect(found).toHaveLength(20);
  });

  it('cuts the last level by depth, then event_id, for every limit from 1 to 20 back from a merge', async () => {
    const { merge } = lastMerge();
    for (let limit = 1; limit <= 20; limit++) expect(await check({ latest_events: [merge.event_id], limit })).toHaveLength(limit);
  });

  it('stops at earliest_events on one branch and walks on through the other', async () => {
    const { merge, tips } = lastMerge();
    const without = referenceWalk(events, { room_id: roomId, latest_events: [merge.event_id], limit: 20 });
    const found = await check({ latest_events: [merge.event_id], earliest_events: [tips[0]!.event_id], limit: 20 });
    expect(found.map((event) => event.event_id)).not.toContain(tips[0]!.event_id);
    expect(found.map((event) => event.event_id)).toContain(tips[1]!.event_id);
    expect(found).not.toEqual(without);
  });

  it('honours min_depth', async () => {
    const latest = newest();
    const found = await check({ latest_events: [latest.event_id], min_depth: latest.depth - 4, limit: 20 });
    expect(found.length).toBeGreaterThan(0);
    expect(found.length).toBeLessThan(20);
    expect(found.every((event) => event.depth >= latest.depth - 4)).toBe(true);
  });
});

describe('hand-built DAGs', () => {
  it('breaks ties at the last level by greater depth, then the smaller event_id (and the reference agrees)', async () => {
    const r = room('ties');
    member(r, BOB);
    const a = message(r, 'a');
    const deepParent = message(r, 'deep-parent', [a]);
    const deep = message(r, 'deep', [deepParent]);
    const shallow1 = message(r, 'shallow1', [a]);
    const shallow2 = message(r, 'shallow2', [a]);
    const tip = message(r, 'tip', [shallow2, deep, shallow1]);
    await store(r.events);
    expect([a.depth, deepParent.depth, deep.depth, shallow1.depth, shallow2.depth]).toEqual([6, 7, 8, 7, 7]);
    const shallow = [shallow1, shallow2].sort((x, y) => (x.event_id < y.event_id ? -1 : 1));
    const cases: [number, BuiltEvent[]][] = [
      [1, [deep]],
      [2, [shallow[0]!, deep]],
      // The second level (a at depth 6, deep-parent at depth 7) has room for one: the deeper.
      [4, [deepParent, shallow1, shallow2, deep]],
      [5, [a, deepParent, shallow1, shallow2, deep]],
    ];
    for (const [limit, expected] of cases) {
      // Same depth (7): deep-parent, shallow1, shallow2 were sent in that order, so origin_server_ts orders them.
      expect(referenceWalk(r.events, { room_id: r.roomId, latest_events: [tip.event_id], limit })).toEqual(expected);
      expectEvents(await ask(r.roomId, 'hs2.test', { latest_events: [tip.event_id], limit }), expected, r.events);
    }
  });

  it('returns events of one depth by origin_server_ts, then event_id', async () => {
    const r = room('answer-order');
    member(r, BOB);
    const a = message(r, 'a');
    const base = (a.pdu.origin_server_ts as number) + 1000;
    const sibling = (body: string, ts: number) => r.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body }, prev: [a] }, ts);
    const [s1, s2, s3, s4] = [40, 30, 20, 10].map((offset, i) => sibling(`s${i + 1}`, base + offset)) as [BuiltEvent, BuiltEvent, BuiltEvent, BuiltEvent];
    const [t1, t2] = [sibling('t1', base + 25), sibling('t2', base + 25)] as [BuiltEvent, BuiltEvent];
    const tip = message(r, 'tip', [s1, s2, s3, s4, t1, t2]);
    await store(r.events);
    const byTs = [s4, s3, ...[t1, t2].sort((x, y) => (x.event_id < y.event_id ? -1 : 1)), s2, s1];
    // Only meaningful if event_id order alone would give another answer.
    expect([...byTs].sort((x, y) => (x.event_id < y.event_id ? -1 : 1))).not.toEqual(byTs);
    expect(referenceWalk(r.events, { room_id: r.roomId, latest_events: [tip.event_id], limit: 6 })).toEqual(byTs);
    expectEvents(await ask(r.roomId, 'hs2.test', { latest_events: [tip.event_id], limit: 6 }), byTs, r.events);
  });

  it("answers sytest's empty body {} with no events", async () => {
    const r = room('sytest-empty');
    member(r, BOB);
    message(r, 'hello');
    await store(r.events);
    const reply = await ask(r.roomId, 'hs2.test', {});
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ events: [] });
    expect(reply.text).toBe('{"events":[]}');
  });

  it('answers a Complement-style request: earliest = [create], latest = [a later join], limit 10, min_depth 1', async () => {
    const r = room('complement');
    const [create, aliceJoin, powerLevels, joinRules] = r.events;
    const messages = [message(r, 'one'), message(r, 'two'), message(r, 'three')];
    const bobJoin = member(r, BOB);
    message(r, 'after');
    await store(r.events);
    const reply = await ask(r.roomId, 'hs2.test', { earliest_events: [create!.event_id], latest_events: [bobJoin.event_id], limit: 10, min_depth: 1 });
    expectEvents(reply, [aliceJoin!, powerLevels!, joinRules!, ...messages], r.events);
  });
});

describe('request validation', () => {
  let r: RoomBuilder;
  let latest: BuiltEvent;

  beforeAll(async () => {
    r = room('validation');
    member(r, BOB);
    latest = message(r, 'm');
    await store(r.events);
  });

  const path = () => missingEventsPath(r.roomId);

  it('answers M_NOT_JSON for a body that is not JSON, before authentication (as Synapse parses before it authenticates)', async () => {
    const signed = await signedPost({
      url: service.url,
      path: path(),
      origin: 'hs2.test',
      key: identities.get('hs2.test')!,
      destination: service.serverName,
      rawBody: '{"latest_events": [',
    });
    expectError(signed, 400, 'M_NOT_JSON', 'The request body is not valid JSON');
    const unsigned = await rawRequest({ url: service.url, method: 'POST', path: path(), body: '{"latest_events": [' });
    expectError(unsigned, 400, 'M_NOT_JSON', 'The request body is not valid JSON');
  });

  it('answers M_NOT_JSON for a signed request with no body', async () => {
    const authorization = signRequest({ method: 'POST', uri: path(), origin: 'hs2.test', destination: service.serverName, key: identities.get('hs2.test')! });
    const reply = await rawRequest({ url: service.url, method: 'POST', path: path(), headers: { authorization } });
    expectError(reply, 400, 'M_NOT_JSON', 'The request body is missing; send a JSON object');
  });

  it.each([
    ['an array', []],
    ['a string', 'x'],
    ['null', null],
    ['a number', 5],
  ])('answers M_BAD_JSON for JSON that is %s', async (_name, body) => {
    expectError(await ask(r.roomId, 'hs2.test', body), 400, 'M_BAD_JSON', 'The request body must be a JSON object');
  });

  it('answers M_BAD_JSON naming the field that has the wrong type', async () => {
    expectError(await ask(r.roomId, 'hs2.test', { latest_events: 'x' }), 400, 'M_BAD_JSON', 'latest_events must be an array of event IDs');
    expectError(await ask(r.roomId, 'hs2.test', { earliest_events: [7] }), 400, 'M_BAD_JSON', 'earliest_events[0] must be a string (an event ID)');
    expectError(await ask(r.roomId, 'hs2.test', { latest_events: [], limit: '5' }), 400, 'M_BAD_JSON', 'limit must be an integer');
  });

  it('answers M_INVALID_PARAM for values of the right type out of bounds', async () => {
    expectError(
      await ask(r.roomId, 'hs2.test', { latest_events: ['nope'] }),
      400,
      'M_INVALID_PARAM',
      'latest_events[0] is not an event ID (a "$" sigil, at most 255 bytes)',
    );
    const tooMany = Array.from({ length: 257 }, (_, i) => `$e${i}:hs2.test`);
    expectError(await ask(r.roomId, 'hs2.test', { latest_events: tooMany }), 400, 'M_INVALID_PARAM', 'latest_events lists more than 256 event IDs');
    expectError(await ask(r.roomId, 'hs2.test', { latest_events: [latest.event_id], limit: 0 }), 400, 'M_INVALID_PARAM', 'limit must be at least 1');
    expectError(
      await ask(r.roomId, 'hs2.test', { latest_events: [latest.event_id], min_depth: -1 }),
      400,
      'M_INVALID_PARAM',
      'min_depth must be at least 0',
    );
  });

  it('accepts exactly 256 latest_events', async () => {
    const many = [latest.event_id, ...Array.from({ length: 255 }, (_, i) => `$e${i}:hs2.test`)];
    expectEvents(await ask(r.roomId, 'hs2.test', { latest_events: many, limit: 1 }), [r.events[r.events.length - 2]!], r.events);
  });

  it.each([
    ['names no room', 'notaroom', '"notaroom" is not a room ID'],
    ['is not valid percent-encoding (never a 500)', '%E0%A4%A', 'The request path is not valid percent-encoded UTF-8'],
  ])('answers M_INVALID_PARAM for a path that %s', async (_case, roomPath, message) => {
    const reply = await signedPost({
      url: service.url,
      path: `/_matrix/federation/v1/get_missing_events/${roomPath}`,
      origin: 'hs2.test',
      key: identities.get('hs2.test')!,
      destination: service.serverName,
      body: { latest_events: [latest.event_id] },
    });
    expectError(reply, 400, 'M_INVALID_PARAM', message);
  });

  it('answers 413 M_TOO_LARGE for a body over BODY_LIMIT_BYTES, and serves one under it', async () => {
    const big = { latest_events: [latest.event_id, ...Array.from({ length: 60 }, (_, i) => `$${'x'.repeat(40)}${i}:hs2.test`)] };
    expect(JSON.stringify(big).length).toBeGreaterThan(2048);
    expectError(await ask(r.roomId, 'hs2.test', big, smallBodyService), 413, 'M_TOO_LARGE', 'The request body is too large');
    const small = { latest_events: [latest.event_id], limit: 1 };
    expectEvents(await ask(r.roomId, 'hs2.test', small, smallBodyService), [r.events[r.events.length - 2]!], r.events);
    // The same large body is fine under the default limit.
    expectEvents(await ask(r.roomId, 'hs2.test', { ...big, limit: 1 }), [r.events[r.events.length - 2]!], r.events);
  });

  it('answers 405 M_UNRECOGNIZED for another method on the endpoint and 404 M_UNRECOGNIZED for an unknown path', async () => {
    const get = await rawRequest({ url: service.url, method: 'GET', path: path() });
    expectError(get, 405, 'M_UNRECOGNIZED', `GET is not allowed on ${path()}`);
    const unknown = await signedPost({
      url: service.url,
      path: '/_matrix/federation/v1/nope',
      origin: 'hs2.test',
      key: identities.get('hs2.test')!,
      destination: service.serverName,
      body: {},
    });
    expectError(unknown, 404, 'M_UNRECOGNIZED', 'Unrecognized request: POST /_matrix/federation/v1/nope');
  });
});

describe('authentication', () => {
  let r: RoomBuilder;
  let latest: BuiltEvent;
  const body = () => ({ latest_events: [latest.event_id], limit: 2 });
  const expected = () => r.events.slice(-3, -1);

  beforeAll(async () => {
    r = room('authentication');
    member(r, BOB);
    message(r, 'one');
    latest = message(r, 'two');
    await store(r.events);
  });

  function send(authorization: string | readonly string[] | undefined, content: unknown = body()): Promise<Reply> {
    return rawRequest({
      url: service.url,
      method: 'POST',
      path: missingEventsPath(r.roomId),
      headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
      body: JSON.stringify(content),
    });
  }

  function header(overrides: { destination?: string; key?: SigningKey; content?: unknown } = {}): string {
    return signRequest({
      method: 'POST',
      uri: missingEventsPath(r.roomId),
      origin: 'hs2.test',
      destination: overrides.destination ?? service.serverName,
      content: 'content' in overrides ? overrides.content : body(),
      key: overrides.key ?? identities.get('hs2.test')!,
    });
  }

  it('accepts a correctly signed request', async () => {
    expectEvents(await send(header()), expected(), r.events);
  });

  it('answers 401 M_UNAUTHORIZED without an Authorization header', async () => {
    expectError(await send(undefined), 401, 'M_UNAUTHORIZED', 'The request has no "Authorization: X-Matrix ..." header.');
  });

  it('answers 401 M_UNAUTHORIZED for a malformed X-Matrix header', async () => {
    expectError(await send('X-Matrix origin="hs2.test",sig="abc"'), 401, 'M_UNAUTHORIZED', 'The X-Matrix header is malformed: "key" is missing.');
  });

  it('answers 401 M_UNAUTHORIZED for a bad signature', async () => {
    const keyId = identities.get('hs2.test')!.keyId;
    const impostor = { ...generateSigningKey('impostor'), keyId };
    const message = `The X-Matrix signature by ${keyId} of hs2.test does not verify.`;
    expectError(await send(header({ key: impostor })), 401, 'M_UNAUTHORIZED', message);
    // A real signature, over another body.
    expectError(await send(header({ content: { ...body(), limit: 3 } })), 401, 'M_UNAUTHORIZED', message);
  });

  it('answers 401 M_UNAUTHORIZED for a signature by a key the origin does not have', async () => {
    expectError(
      await send(header({ key: generateSigningKey('stranger') })),
      401,
      'M_UNAUTHORIZED',
      // hs2.test cannot be reached, so its keys could not be fetched again; the caller is not told why (issue 19, item 4).
      "The origin server's signing keys could not be fetched.",
    );
  });

  it('answers 401 M_UNAUTHORIZED when destination is another server', async () => {
    expectError(
      await send(header({ destination: 'them.test' })),
      401,
      'M_UNAUTHORIZED',
      `The X-Matrix destination them.test is not this server (${service.serverName}).`,
    );
  });

  it('accepts a header without destination (senders older than spec v1.3 signed our name)', async () => {
    const key = identities.get('hs2.test')!;
    const uri = missingEventsPath(r.roomId);
    const signature = signBytes(key, requestSigningBytes({ method: 'POST', uri, origin: 'hs2.test', destination: service.serverName, content: body() }));
    const withoutDestination = authorizationHeader({ origin: 'hs2.test', destination: undefined, key: key.keyId, signature });
    expect(withoutDestination).not.toContain('destination');
    expectEvents(await send(withoutDestination), expected(), r.events);
  });

  it('accepts two Authorization headers when only the second verifies', async () => {
    const bad = header({ key: { ...generateSigningKey('impostor'), keyId: identities.get('hs2.test')!.keyId } });
    expectEvents(await send([bad, header()]), expected(), r.events);
  });
});

describe("the origin's key fetched over HTTPS from a loopback key server", () => {
  let keyServer: HttpsServer;
  let httpsService: TestService;
  let origin: string;
  let originKey: SigningKey;
  const keyRequests: string[] = [];

  beforeAll(async () => {
    keyServer = createServer({ key: PRIVATE_KEY, cert: CERTIFICATE }, (req, res) => {
      keyRequests.push(`${req.method} ${req.url}`);
      if (req.method !== 'GET' || req.url !== '/_matrix/key/v2/server') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' }));
        return;
      }
      const response = signJson(
        { server_name: origin, valid_until_ts: Date.now() + DAY, verify_keys: { [originKey.keyId]: { key: originKey.publicKey } }, old_verify_keys: {} },
        origin,
        originKey,
      );
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(response));
    });
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    origin = `127.0.0.1:${(keyServer.address() as AddressInfo).port}`;
    // Its own service, whose key fetcher does fetch; a run nonce in the seed gives this server a key that no
    // earlier run can have left in the key store for the same port.
    httpsService = await startTestService({ graph, keyFetcherOptions: { minRefetchIntervalMs: 0 } });
  });

  afterAll(async () => {
    await httpsService?.close();
    keyServer?.closeAllConnections();
    await new Promise((resolve) => keyServer?.close(resolve));
  });

  it('verifies the request with the fetched key, then answers from the cache without fetching again', async () => {
    const r = room(`https-origin/${origin}/${Date.now()}-${Math.random()}`);
    member(r, `@u:${origin}`);
    const one = message(r, 'one');
    const two = message(r, 'two');
    await store(r.events);
    originKey = r.keyOf(origin);

    const request = () =>
      signedPost({
        url: httpsService.url,
        path: missingEventsPath(r.roomId),
        origin,
        key: originKey,
        destination: httpsService.serverName,
        body: { latest_events: [two.event_id], limit: 2 },
      });
    const memberEvent = r.events[r.events.length - 3]!;
    expectEvents(await request(), [memberEvent, one], r.events);
    expect(keyRequests).toEqual(['GET /_matrix/key/v2/server']);
    expect((await httpsService.keyStore.load(origin))?.response.verify_keys).toEqual({ [originKey.keyId]: { key: originKey.publicKey } });

    expectEvents(await request(), [memberEvent, one], r.events);
    expect(keyRequests).toEqual(['GET /_matrix/key/v2/server']);
  });
});

describe('authorization', () => {
  it('answers an unknown room exactly like a room the server is not in (403 M_FORBIDDEN), so rooms cannot be probed', async () => {
    const roomId = `!unknown${Date.now()}:hs1.test`;
    expectError(await ask(roomId, 'hs2.test', { latest_events: ['$x:hs1.test'] }), 403, 'M_FORBIDDEN', `hs2.test has no joined member in ${roomId}`);
  });

  it('answers 403 M_FORBIDDEN to a server with no joined member', async () => {
    const r = room('no-member');
    member(r, BOB);
    const latest = message(r, 'm');
    await store(r.events);
    expectError(await ask(r.roomId, 'hs4.test', { latest_events: [latest.event_id] }), 403, 'M_FORBIDDEN', `hs4.test has no joined member in ${r.roomId}`);
    expectEvents(await ask(r.roomId, 'hs2.test', { latest_events: [latest.event_id], limit: 1 }), [r.events[r.events.length - 2]!], r.events);
  });

  it('answers 403 to a server whose member left, and 200 once the room is world_readable', async () => {
    const r = room('left');
    member(r, BOB);
    message(r, 'while bob was here');
    const leave = member(r, BOB, 'leave');
    const latest = message(r, 'after bob left');
    await store(r.events);
    expectError(await ask(r.roomId, 'hs2.test', { latest_events: [latest.event_id] }), 403, 'M_FORBIDDEN', `hs2.test has no joined member in ${r.roomId}`);

    const visibility = state(r, 'm.room.history_visibility', { history_visibility: 'world_readable' });
    const tip = message(r, 'now world readable');
    await store(r.events);
    expectEvents(await ask(r.roomId, 'hs2.test', { latest_events: [tip.event_id], limit: 3 }), [leave, latest, visibility], r.events);
    // A server that never had a member may read it too.
    expectEvents(await ask(r.roomId, 'hs4.test', { latest_events: [tip.event_id], limit: 3 }), [leave, latest, visibility], r.events);
  });

  it('answers 403 to a server denied by the server ACL even though it is joined, and 200 to one allowed', async () => {
    const r = room('acl-deny');
    member(r, BOB);
    member(r, CAROL);
    const beforeAcl = message(r, 'before the ACL');
    await store(r.events);
    expectEvents(await ask(r.roomId, 'hs3.test', { latest_events: [beforeAcl.event_id], limit: 1 }), [r.events[r.events.length - 2]!], r.events);

    const acl = state(r, 'm.room.server_acl', { allow: ['*'], deny: ['hs3.test'], allow_ip_literals: true });
    const tip = message(r, 'after the ACL');
    await store(r.events);
    expectError(await ask(r.roomId, 'hs3.test', { latest_events: [tip.event_id] }), 403, 'M_FORBIDDEN', `hs3.test is denied by the server ACL of ${r.roomId}`);
    expectEvents(await ask(r.roomId, 'hs2.test', { latest_events: [tip.event_id], limit: 2 }), [beforeAcl, acl], r.events);
  });

  it('answers 403 to an IP-literal origin when the ACL sets allow_ip_literals false', async () => {
    const r = room('acl-ip-literals');
    member(r, IP_USER);
    const beforeAcl = message(r, 'before the ACL');
    await store(r.events);
    expectEvents(await ask(r.roomId, IP_ORIGIN, { latest_events: [beforeAcl.event_id], limit: 1 }), [r.events[r.events.length - 2]!], r.events);

    state(r, 'm.room.server_acl', { allow: ['*'], deny: [], allow_ip_literals: false });
    const tip = message(r, 'after the ACL');
    await store(r.events);
    expectError(await ask(r.roomId, IP_ORIGIN, { latest_events: [tip.event_id] }), 403, 'M_FORBIDDEN', `${IP_ORIGIN} is denied by the server ACL of ${r.roomId}`);
  });

  it("answers only the creator's server in a room created with m.federate false", async () => {
    const r = room('no-federate', '10', { 'm.federate': false });
    const before = r.events[r.events.length - 1]!;
    // Bob's join is rejected (only the creator's server may join), so it is walked through but never returned.
    member(r, BOB);
    const one = message(r, 'one');
    const tip = message(r, 'two');
    await store(r.events);
    expectEvents(await ask(r.roomId, 'hs1.test', { latest_events: [tip.event_id], limit: 3 }), [before, one], r.events);
    expectError(await ask(r.roomId, 'hs2.test', { latest_events: [tip.event_id] }), 403, 'M_FORBIDDEN', `${r.roomId} does not federate (m.federate is false)`);
  });
});

describe('the local server routes', () => {
  it('serves our key at GET /_matrix/key/v2/server, self-signed', async () => {
    const started = Date.now();
    const response = await fetch(`${service.url}/_matrix/key/v2/server`);
    expect(response.status).toBe(200);
    const json = (await response.json()) as Record<string, unknown>;
    const { keyId, publicKey } = service.signingKey;
    expect(Object.keys(json).sort()).toEqual(['old_verify_keys', 'server_name', 'signatures', 'valid_until_ts', 'verify_keys']);
    expect(json.server_name).toBe(service.serverName);
    expect(json.verify_keys).toEqual({ [keyId]: { key: publicKey } });
    expect(json.old_verify_keys).toEqual({});
    expect(json.valid_until_ts).toBeGreaterThan(started);
    const signatures = json.signatures as Record<string, Record<string, string>>;
    expect(Object.keys(signatures)).toEqual([service.serverName]);
    expect(Object.keys(signatures[service.serverName]!)).toEqual([keyId]);
    const { signatures: _signatures, ...signed } = json;
    const verified = nacl.sign.detached.verify(
      Buffer.from(canonicalJson(signed), 'utf8'),
      decodeBase64(signatures[service.serverName]![keyId]!)!,
      decodeBase64(publicKey)!,
    );
    expect(verified).toBe(true);

    const post = await rawRequest({ url: service.url, method: 'POST', path: '/_matrix/key/v2/server', body: '{}' });
    expectError(post, 405, 'M_UNRECOGNIZED', 'POST is not allowed on /_matrix/key/v2/server');
  });

  it('serves GET /_matrix/federation/v1/version', async () => {
    const response = await fetch(`${service.url}/_matrix/federation/v1/version`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ server: { name: 'MaxTryX missing-events', version: '0.1.0' } });
  });
});
