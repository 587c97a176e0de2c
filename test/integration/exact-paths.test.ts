/**
 * Routes match only as the spec writes them (issue 19, item 12), as Synapse's servlets match `^path$`: another case
 * or a trailing slash is another path, 404 M_UNRECOGNIZED, even for a request signed for that path, on the real
 * listener with the real Neo4j; the ops listener's /health, /ready and /metrics likewise.
 */
import { generateSigningKey } from '../../src/core/signing';
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { registerRoomKeys } from '../../src/service/demo-room';
import type { Graph } from '../../src/store/neo4j';
import { missingEventsPath, rawRequest, signedPost, startTestService, type TestService } from '../helpers/federation';
import { importLines, openTestGraph } from '../helpers/graph';

const ALICE = '@alice:hs1.test';
const hs2 = generateSigningKey(`t${Math.random().toString(36).slice(2, 10)}`);
let graph: Graph;
let service: TestService;
let roomId: string;
let latest: BuiltEvent;
let previous: BuiltEvent;

beforeAll(async () => {
  graph = await openTestGraph();
  service = await startTestService({ graph });
  await registerRoomKeys({ room_id: '!keys:us.test', room_version: '10', servers: new Map([['hs2.test', hs2]]) }, service.keyStore, Date.now());
  const builder = new RoomBuilder('10', `exact-paths/${Date.now()}`);
  builder.create(ALICE);
  builder.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  builder.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  builder.add({ type: 'm.room.member', state_key: '@bob:hs2.test', sender: '@bob:hs2.test', content: { membership: 'join' } });
  previous = builder.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: 'one' } });
  latest = builder.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body: 'two' } });
  const { problems } = await importLines(graph, builder.events);
  expect(problems).toEqual([]);
  roomId = builder.roomId;
});

afterAll(async () => {
  await service?.close();
  await graph?.driver.close();
});

/** A request signed by hs2.test for exactly `path`, as a server that spelled the path so would sign it. */
function signedFor(path: string) {
  return signedPost({ url: service.url, path, origin: 'hs2.test', key: hs2, destination: service.serverName, body: { latest_events: [latest.event_id], limit: 1 } });
}

function unrecognized(method: string, path: string) {
  const json = { errcode: 'M_UNRECOGNIZED', error: `Unrecognized request: ${method} ${path}` };
  return { status: 404, json, text: JSON.stringify(json) };
}

describe('paths match exactly', () => {
  it('serves the path as the spec writes it', async () => {
    const reply = await signedFor(missingEventsPath(roomId));
    expect({ status: reply.status, text: reply.text }).toEqual({ status: 200, text: `{"events":[${JSON.stringify(previous.pdu)}]}` });
  });

  it.each([
    ['upper case', (path: string) => path.toUpperCase()],
    ['the endpoint in upper case', (path: string) => path.replace('get_missing_events', 'GET_MISSING_EVENTS')],
    ['a trailing slash', (path: string) => `${path}/`],
  ])('answers 404 M_UNRECOGNIZED to a signed request for the path in %s', async (_name, spell) => {
    const path = spell(missingEventsPath(roomId));
    const { status, json, text } = await signedFor(path);
    expect({ status, json, text }).toEqual(unrecognized('POST', path));
  });

  it('answers 404 to the unauthenticated routes spelled otherwise, and serves them as written', async () => {
    for (const path of ['/_MATRIX/key/v2/server', '/_matrix/key/v2/server/', '/_matrix/federation/v1/VERSION', '/_matrix/federation/v1/version/', '/HEALTH', '/health/']) {
      expect(await rawRequest({ url: service.url, method: 'GET', path })).toEqual(unrecognized('GET', path));
    }
    expect((await rawRequest({ url: service.url, method: 'GET', path: '/_matrix/key/v2/server' })).status).toBe(200);
    expect((await rawRequest({ url: service.url, method: 'GET', path: '/_matrix/federation/v1/version' })).status).toBe(200);
  });

  it('answers 404 on the ops listener to /health, /ready and /metrics spelled otherwise, and serves them as written', async () => {
    for (const path of ['/HEALTH', '/health/', '/Ready', '/ready/', '/METRICS', '/metrics/']) {
      expect(await rawRequest({ url: service.opsUrl, method: 'GET', path })).toEqual(unrecognized('GET', path));
    }
    for (const path of ['/health', '/ready', '/metrics']) {
      expect((await rawRequest({ url: service.opsUrl, method: 'GET', path })).status).toBe(200);
    }
  });
});
