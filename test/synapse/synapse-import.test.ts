/**
 * Real data from a real homeserver: two Synapses (from PyPI) federate on loopback; alice on hs1 makes rooms of
 * versions 1, 10, 11 and 12 with bob on hs2 (state changes, a redaction, a fork). hs1 is stopped, its SQLite
 * database imported with synapsePduLines and the Importer, and hs1 started again. Then:
 * - the graph holds exactly Synapse's events, with its depths, prev_events (event_edges), JSON (byte for byte in
 *   canonical form), current state (current_state_events) and rejections;
 * - each line we produced is what hs1 sends for that event over federation (GET /event as hs2), `age` aside;
 * - our get_missing_events and hs1's, both asked by hs2 with the same signed request, return the same events,
 *   for requests where Synapse's walk and ours are meant to agree: one latest event, limits that end on a
 *   breadth-first level (where the last level does not fit, Synapse takes whichever its database gives first and
 *   we take the deepest), and min_depth 0 (Synapse ignores min_depth).
 */
import { canonicalJson } from '../../src/core/canonical-json';
import { computeEventId } from '../../src/core/event-hashes';
import { redactEvent } from '../../src/core/redaction';
import { getRoomVersion, type RoomVersion } from '../../src/core/room-versions';
import { Importer, type ImportProblem, type ImportSummary } from '../../src/importer/importer';
import { openSynapseDatabase, type SynapseDatabase } from '../../src/importer/synapse-database';
import { synapsePduLines } from '../../src/importer/synapse-source';
import { EventStore } from '../../src/store/event-store';
import type { Graph } from '../../src/store/neo4j';
import { missingEventsPath, startTestService, type TestService } from '../helpers/federation';
import { openTestGraph } from '../helpers/graph';
import { currentStateMap, queryGraph } from '../helpers/room-graph';
import { federationRequest } from './helpers/matrix-client';
import { buildRoom, fetchPdu, prevEventIds, startSynapsePair, type BuiltRoom, type SynapsePair } from './helpers/synapse-rooms';

const ROOM_VERSIONS = ['1', '10', '11', '12'];
type Pdu = Record<string, unknown>;

let pair: SynapsePair;
let graph: Graph;
let service: TestService;
let synapseDb: SynapseDatabase;
const rooms: BuiltRoom[] = [];
/** Our lines, by event ID. */
const lines = new Map<string, Pdu>();
const skipped: string[] = [];
const problems: ImportProblem[] = [];
let summary: ImportSummary;
const timings: string[] = [];

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await work();
  timings.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

beforeAll(async () => {
  pair = await timed('two Synapses started', () => startSynapsePair((line) => process.stderr.write(`${line}\n`)));
  if (pair.venv.installSeconds > 0) timings.unshift(`pip install ${pair.venv.installSeconds.toFixed(0)} s`);
  for (const version of ROOM_VERSIONS) rooms.push(await timed(`room v${version} built`, () => buildRoom(pair, version)));
  await timed('hs1 stopped', () => pair.hs1.stop());

  graph = await openTestGraph();
  const importer = new Importer(new EventStore(graph), { onProblem: (problem) => problems.push(problem) });
  const roomIds = rooms.map((room) => room.roomId);
  const recorded = async function* (): AsyncIterable<string> {
    for await (const line of synapsePduLines(pair.hs1.databasePath, roomIds, { onSkip: (id, reason) => skipped.push(`${id}: ${reason}`) })) {
      const pdu = JSON.parse(line) as Pdu;
      lines.set(eventIdOf(pdu, roomVersionOfLine(pdu)), pdu);
      yield line;
    }
  };
  summary = await timed('imported', async () => {
    await importer.importLines(recorded(), 'synapse');
    return importer.finish();
  });
  synapseDb = await openSynapseDatabase(pair.hs1.databasePath);

  await timed('hs1 restarted', () => pair.hs1.start());
  service = await startTestService({ graph, serverName: 'us.test' });
}, 900_000);

afterAll(async () => {
  process.stderr.write(`Synapse ${pair?.venv.version}: ${timings.join(', ')}\n`);
  await service?.close();
  await synapseDb?.close();
  await pair?.close();
  await graph?.driver.close();
});

/** Room versions by room ID, for reading lines (a v12 create line has no room_id: its ID names the room). */
const versionByRoom = new Map<string, RoomVersion>();
function roomVersionOfLine(pdu: Pdu): RoomVersion {
  if (typeof pdu.room_id === 'string') {
    const known = versionByRoom.get(pdu.room_id);
    if (known !== undefined) return known;
    const room = rooms.find((candidate) => candidate.roomId === pdu.room_id)!;
    versionByRoom.set(pdu.room_id, getRoomVersion(room.roomVersion)!);
    return versionByRoom.get(pdu.room_id)!;
  }
  return getRoomVersion('12')!;
}

function eventIdOf(pdu: Pdu, version: RoomVersion): string {
  return computeEventId(pdu, version)!;
}

function withoutUnsigned(pdu: Pdu): Pdu {
  const { unsigned: _unsigned, ...rest } = pdu;
  return rest;
}

async function synapseRows<T>(sql: string, params: (string | number)[]): Promise<T[]> {
  return (await synapseDb.query(sql, params)) as unknown as T[];
}

test('every event of the rooms is imported, none skipped, rejected or waiting', () => {
  expect(skipped).toEqual([]);
  expect(problems.filter((problem) => problem.severity === 'error')).toEqual([]);
  // The redacted message of each room is given pruned, as Synapse sends it: its content hash no longer matches.
  expect(problems.map((problem) => problem.message)).toEqual(
    rooms.map((room) => `content hash of ${room.redacted} does not match; stored redacted`),
  );
  expect(summary).toMatchObject({ skipped: 0, rejected: 0, softFailed: 0, statePending: 0, hashMismatches: ROOM_VERSIONS.length, rooms: ROOM_VERSIONS.length });
  expect(summary.stored).toBe(lines.size);
});

describe.each(ROOM_VERSIONS)('room version %s', (roomVersion) => {
  const room = (): BuiltRoom => rooms.find((built) => built.roomVersion === roomVersion)!;

  test('the graph holds Synapse\'s events with its depths, prev_events and JSON', async () => {
    const { roomId, redacted } = room();
    const version = getRoomVersion(roomVersion)!;
    const synapseEvents = await synapseRows<{ event_id: string; depth: number; json: string }>(
      'SELECT e.event_id, e.depth, ej.json FROM events AS e JOIN event_json AS ej USING (event_id) WHERE e.room_id = ? ORDER BY e.stream_ordering',
      [roomId],
    );
    const edges = await synapseRows<{ event_id: string; prev_event_id: string }>(
      'SELECT event_id, prev_event_id FROM event_edges WHERE event_id IN (SELECT event_id FROM events WHERE room_id = ?)',
      [roomId],
    );
    const ours = await queryGraph<{ event_id: string; depth: number; pdu: string | null; placeholder: boolean; prev_events: string[] }>(
      graph,
      `MATCH (e:Event {room_id: $room_id})
       RETURN e.event_id AS event_id, e.depth AS depth, e.pdu AS pdu, e:Placeholder AS placeholder,
              [(e)-[:PREV_EVENT]->(p) | p.event_id] AS prev_events`,
      { room_id: roomId },
    );
    const byId = new Map(ours.map((row) => [row.event_id, row]));

    expect([...byId.keys()].sort()).toEqual(synapseEvents.map((row) => row.event_id).sort());
    expect(ours.filter((row) => row.placeholder)).toEqual([]);
    for (const row of synapseEvents) {
      const stored = byId.get(row.event_id)!;
      const synapsePdu = withoutUnsigned(JSON.parse(row.json) as Pdu);
      expect({ event_id: row.event_id, depth: stored.depth }).toEqual({ event_id: row.event_id, depth: Number(row.depth) });
      expect({ event_id: row.event_id, prev_events: [...stored.prev_events].sort() }).toEqual({
        event_id: row.event_id,
        prev_events: edges.filter((edge) => edge.event_id === row.event_id).map((edge) => edge.prev_event_id).sort(),
      });
      // Byte for byte in canonical JSON (what hashes and signatures cover): the event as Synapse stored it, or
      // pruned by the room version's redaction algorithm when it was redacted.
      const expected = row.event_id === redacted ? redactEvent(synapsePdu, version) : synapsePdu;
      expect({ event_id: row.event_id, pdu: canonicalJson(JSON.parse(stored.pdu!)) }).toEqual({ event_id: row.event_id, pdu: canonicalJson(expected) });
    }
    expect(synapseEvents.length).toBeGreaterThanOrEqual(20);
  });

  test('the current state and the rejected events are Synapse\'s', async () => {
    const { roomId } = room();
    const current = await synapseRows<{ type: string; state_key: string; event_id: string }>(
      'SELECT type, state_key, event_id FROM current_state_events WHERE room_id = ?',
      [roomId],
    );
    expect(await currentStateMap(graph, roomId)).toEqual(Object.fromEntries(current.map((row) => [`${row.type}|${row.state_key}`, row.event_id])));
    const rejected = await synapseRows<{ event_id: string }>(
      'SELECT event_id FROM rejections WHERE event_id IN (SELECT event_id FROM events WHERE room_id = ?)',
      [roomId],
    );
    const ourRejected = await queryGraph<{ event_id: string }>(graph, 'MATCH (e:Event:Rejected {room_id: $room_id}) RETURN e.event_id AS event_id', { room_id: roomId });
    expect(ourRejected.map((row) => row.event_id).sort()).toEqual(rejected.map((row) => row.event_id).sort());
  });

  test('each line is the PDU hs1 sends over federation for that event', async () => {
    const { roomId, redacted } = room();
    const eventIds = (await synapseRows<{ event_id: string }>('SELECT event_id FROM events WHERE room_id = ?', [roomId])).map((row) => row.event_id);
    for (const eventId of eventIds) {
      const sent = await fetchPdu(pair, eventId);
      const line = lines.get(eventId)!;
      // `unsigned` as a receiving homeserver keeps it (Synapse's _strip_unsigned_values): Synapse also sends its own
      // bookkeeping there, which we leave out. `age` is counted from when each was sent.
      const { age: sentAge, ...sentUnsigned } = sent.unsigned as Pdu;
      const { age: lineAge, ...lineUnsigned } = line.unsigned as Pdu;
      const kept = sent.type === 'm.room.member' ? ['invite_room_state', 'knock_room_state'] : [];
      const sentKept = Object.fromEntries(Object.entries(sentUnsigned).filter(([key]) => kept.includes(key)));
      expect({ eventId, pdu: withoutUnsigned(line), unsigned: lineUnsigned }).toEqual({ eventId, pdu: withoutUnsigned(sent), unsigned: sentKept });
      expect(Object.keys(sentUnsigned).filter((key) => !kept.includes(key))).toEqual(
        Object.keys(sentUnsigned).filter((key) => ['replaces_state', 'prev_content', 'prev_sender'].includes(key)),
      );
      // Both have an age exactly when Synapse stored an age_ts; ours was counted at import, before hs1 sent its.
      expect({ eventId, age: typeof lineAge }).toEqual({ eventId, age: typeof sentAge });
      if (typeof sentAge === 'number') expect(lineAge as number).toBeLessThanOrEqual(sentAge);
      if (roomVersion === '1') expect(line.event_id).toBe(eventId);
      else expect('event_id' in line).toBe(false);
    }
    expect(lines.get(redacted)!.content).toEqual({});
  });

  test('our get_missing_events and hs1\'s return the same events where the two walks are meant to agree', async () => {
    const { roomId, last, topicChange, fork } = room();
    const requests: { latest_events: string[]; earliest_events: string[]; limit: number }[] = [];
    // Each of these limits is the size of the first levels of the walk, so exactly that many events come back.
    const boundaries = levelBoundaries(last, 20);
    for (const limit of boundaries) requests.push({ latest_events: [last], earliest_events: [], limit });
    requests.push({ latest_events: [last], earliest_events: [topicChange], limit: 20 });
    requests.push({ latest_events: [fork.merge], earliest_events: [topicChange], limit: 10 });

    for (const body of requests) {
      const [synapse, ours] = await Promise.all([
        askMissingEvents(pair.hs1.federationUrl, pair.hs1.serverName, roomId, body),
        askMissingEvents(service.url, service.serverName, roomId, body),
      ]);
      expect({ body, status: ours.status }).toEqual({ body, status: 200 });
      expect({ body, status: synapse.status }).toEqual({ body, status: 200 });
      const version = getRoomVersion(roomVersion)!;
      const keyed = (events: Pdu[]) => Object.fromEntries(events.map((pdu) => [eventIdOf(pdu, version), withoutUnsigned(pdu)]));
      expect({ body, events: keyed(ours.events) }).toEqual({ body, events: keyed(synapse.events) });
      if (body.earliest_events.length === 0) expect({ body, count: ours.events.length }).toEqual({ body, count: body.limit });
      const depths = ours.events.map((pdu) => pdu.depth as number);
      expect(depths).toEqual([...depths].sort((a, b) => a - b));
    }
    expect(boundaries.length).toBeGreaterThanOrEqual(5);
    // The requests cover the fork: both of its sides and the merge come back.
    const whole = await askMissingEvents(service.url, service.serverName, roomId, requests[requests.length - 2]!);
    const ids = whole.events.map((pdu) => eventIdOf(pdu, getRoomVersion(roomVersion)!));
    expect(ids).toEqual(expect.arrayContaining([fork.alice, fork.bob, fork.merge]));
  });
});

/**
 * The limits at which a breadth-first walk back from `latest` ends exactly on a level (levels computed from our
 * lines' prev_events), up to `max`: where Synapse and we must return the same set.
 */
function levelBoundaries(latest: string, max: number): number[] {
  const seen = new Set([latest]);
  let front = [latest];
  let total = 0;
  const limits: number[] = [];
  for (;;) {
    const next: string[] = [];
    for (const id of front) {
      for (const prev of prevEventIds(lines.get(id)!)) {
        if (!seen.has(prev)) {
          seen.add(prev);
          next.push(prev);
        }
      }
    }
    if (next.length === 0 || total + next.length > max) return limits.length > 0 ? limits : [max];
    total += next.length;
    limits.push(total);
    front = next;
  }
}

async function askMissingEvents(
  url: string,
  destination: string,
  roomId: string,
  body: { latest_events: string[]; earliest_events: string[]; limit: number },
): Promise<{ status: number; events: Pdu[] }> {
  const reply = await federationRequest({
    url,
    method: 'POST',
    path: missingEventsPath(roomId),
    origin: pair.hs2.serverName,
    destination,
    key: pair.hs2.signingKey,
    body: { ...body, min_depth: 0 },
  });
  return { status: reply.status, events: ((reply.json as { events?: Pdu[] }).events ?? []) };
}
