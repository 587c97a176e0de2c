/**
 * Property-based tests of POST /_matrix/federation/v1/get_missing_events on the real service, real Neo4j and a
 * real listener: a few hundred random and hostile requests (src/fuzz/arbitraries.ts), each answer checked by
 * src/fuzz/endpoint-property.ts, and the graph's fingerprint compared before and after. `npm run fuzz` runs the
 * same property many thousand times.
 */
import fc from 'fast-check';
import { endpointProperty, send, type FuzzRequest } from '../../src/fuzz/endpoint-property';
import { buildFixture, expectedPdu, storeFixture, type Fixture, type FixtureRoom } from '../../src/fuzz/fixture';
import { startFuzzService, type FuzzService } from '../../src/fuzz/fuzz-service';
import { graphFingerprint, type GraphFingerprint } from '../../src/fuzz/graph-fingerprint';
import type { Graph } from '../../src/store/neo4j';
import { openTestGraph } from '../helpers/graph';

let graph: Graph;
let service: FuzzService;
let fixture: Fixture;
let before: GraphFingerprint;
let roomJ: FixtureRoom;
let roomS: FixtureRoom;

beforeAll(async () => {
  graph = await openTestGraph();
  service = await startFuzzService(graph);
  fixture = buildFixture();
  await storeFixture(graph, service.keyStore, fixture);
  [roomJ, roomS] = fixture.rooms as [FixtureRoom, FixtureRoom];
  before = await graphFingerprint(graph);
});

afterAll(async () => {
  await service?.close();
  await graph?.driver.close();
});

function ask(origin: string, room: FixtureRoom, body: unknown): ReturnType<typeof send> {
  const request: FuzzRequest = {
    origin,
    signing: 'valid',
    roomPath: encodeURIComponent(room.roomId),
    body: { kind: 'json', value: body },
    contentType: 'application/json',
    method: 'POST',
  };
  return send(service.url, request, fixture);
}

/** The answer: a 200 with these events of `room`, each whole or redacted as the fixture says `origin` may see it. */
function expectedAnswer(room: FixtureRoom, origin: string, indexes: number[]): { status: number; events: unknown[] } {
  return { status: 200, events: indexes.map((i) => expectedPdu(fixture, room.roomId, origin, room.events[i]!.pdu)!) };
}

/** The reply as status and parsed events, to compare with expectedAnswer. */
function answer(reply: { status: number; text: string }): { status: number; events: unknown } {
  return { status: reply.status, events: (JSON.parse(reply.text) as { events?: unknown }).events };
}

const id = (room: FixtureRoom, index: number) => room.events[index]!.event_id;

describe('the fixture (what the property relies on)', () => {
  it('answers fuzz2.test in room J with the events before its join redacted and the rest whole', async () => {
    const reply = await ask('fuzz2.test', roomJ, { latest_events: [id(roomJ, 12)], limit: 20 });
    expect(answer(reply)).toEqual(expectedAnswer(roomJ, 'fuzz2.test', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
    // The first eight are redactions: their content is gone (m1's body included).
    const events = (JSON.parse(reply.text) as { events: { content: Record<string, unknown> }[] }).events;
    expect(events[5]!.content).toEqual({});
    expect(events[9]!.content).toEqual({ msgtype: 'm.text', body: 'm4' });
  });

  it('answers 403 to fuzz4.test, which has no member in room J', async () => {
    const reply = await ask('fuzz4.test', roomJ, { latest_events: [id(roomJ, 12)] });
    expect(reply).toEqual({ status: 403, text: JSON.stringify({ errcode: 'M_FORBIDDEN', error: `fuzz4.test has no joined member in ${roomJ.roomId}` }) });
  });
});

describe('cross-room safety', () => {
  it("never follows room S's forged prev_events edge into room J", async () => {
    // s3 -> s2 -> (s1, J's m5): the walk goes through s1 and stops at the edge into J.
    const reply = await ask('fuzz1.test', roomS, { latest_events: [id(roomS, 7)], limit: 20 });
    expect(answer(reply)).toEqual(expectedAnswer(roomS, 'fuzz1.test', [0, 1, 2, 3, 4, 5, 6]));
  });

  it("never returns room J's events for room S's ID, or room S's for room J's, whatever IDs are named", async () => {
    const fromS = await ask('fuzz2.test', roomS, { latest_events: roomJ.events.map((e) => e.event_id), earliest_events: [], limit: 20 });
    expect(fromS).toEqual({ status: 200, text: '{"events":[]}' });
    const fromJ = await ask('fuzz1.test', roomJ, { latest_events: roomS.events.map((e) => e.event_id), limit: 20 });
    expect(fromJ).toEqual({ status: 200, text: '{"events":[]}' });
    const mixed = await ask('fuzz1.test', roomJ, { latest_events: [id(roomJ, 12), ...roomS.events.map((e) => e.event_id)], limit: 20 });
    expect(answer(mixed)).toEqual(expectedAnswer(roomJ, 'fuzz1.test', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
  });

  it('never lets an origin without a member read a room, even naming its events', async () => {
    const reply = await ask('fuzz3.test', roomS, { latest_events: roomS.events.map((e) => e.event_id) });
    expect(reply).toEqual({ status: 403, text: JSON.stringify({ errcode: 'M_FORBIDDEN', error: `fuzz3.test has no joined member in ${roomS.roomId}` }) });
  });
});

describe('random and hostile requests', () => {
  it('never answer 5xx, always with a Matrix error or only the events the origin may see, and change nothing stored', async () => {
    const tally = new Map<string, number>();
    await fc.assert(endpointProperty(fixture, service.url, tally), { numRuns: 300 });
    expect(await graphFingerprint(graph)).toEqual(before);
    // The run reached the walk and the visibility check, not only the validation errors.
    expect(tally.get('200 with events')).toBeGreaterThan(10);
  });

  it('refuses a body nested deeper than MAX_JSON_DEPTH with M_BAD_JSON (canonical JSON would overflow the stack)', async () => {
    // `depth` levels: depth - 2 wrapping objects, the request object, and its latest_events array.
    const nested = (depth: number) => `${'{"extra":'.repeat(depth - 2)}{"latest_events":[]}${'}'.repeat(depth - 2)}`;
    const request = (depth: number): FuzzRequest => ({
      origin: 'fuzz1.test',
      signing: 'valid',
      roomPath: encodeURIComponent(roomJ.roomId),
      body: { kind: 'text', text: nested(depth) },
      contentType: 'application/json',
      method: 'POST',
    });
    expect(await send(service.url, request(100), fixture)).toEqual({ status: 200, text: '{"events":[]}' });
    const error = { errcode: 'M_BAD_JSON', error: 'The request body nests arrays and objects more than 100 levels deep' };
    expect(await send(service.url, request(101), fixture)).toEqual({ status: 400, text: JSON.stringify(error) });
    expect(await send(service.url, request(100_000), fixture)).toEqual({ status: 400, text: JSON.stringify(error) });
  });
});
