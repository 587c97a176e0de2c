/**
 * The importer (src/importer/importer.ts) against the real Neo4j: what a file of PDUs becomes in the room graph
 * (events, PREV_EVENT/AUTH_EVENT/IN_ROOM edges, placeholders, rooms, current state), whatever the order of its lines
 * and the batch size, and how each kind of bad line is reported. Each test imports its own rooms.
 */
import { hashAndSignEvent } from '../../src/core/event-hashes';
import { serverNameOf } from '../../src/core/identifiers';
import { redactEvent } from '../../src/core/redaction';
import { getRoomVersion } from '../../src/core/room-versions';
import { generateRoom, roomBuilderFor, type GenerateOptions } from '../../src/generator/generate-room';
import { RoomBuilder, type BuiltEvent, type Pdu } from '../../src/generator/room-builder';
import { graphSink, Importer, type ImportSink, type ImportSummary } from '../../src/importer/importer';
import { EventStore } from '../../src/store/event-store';
import { StateStore } from '../../src/store/state-store';
import type { Graph } from '../../src/store/neo4j';
import { currentStateEntries, deleteRoomGraph, queryGraph, shuffled } from '../helpers/room-graph';
import { importLines, openTestGraph } from '../helpers/graph';

let graph: Graph;

beforeAll(async () => {
  graph = await openTestGraph();
});

afterAll(async () => {
  await graph.driver.close();
});

const ALICE = '@alice:hs1.test';
const BOB = '@bob:hs2.test';

// --- reading the graph back -----------------------------------------------------------------------------------

function query<T>(cypher: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return queryGraph<T>(graph, cypher, params);
}

interface Counts {
  rooms: number;
  room_version: string | null;
  events: number;
  placeholders: number;
  prev_edges: number;
  auth_edges: number;
  in_room: number;
}

/** What the graph holds for one room: its Room node(s), events, placeholders and edges. */
async function counts(roomId: string): Promise<Counts> {
  const [row] = await query<Counts>(
    `CALL () { MATCH (room:Room {room_id: $room_id}) RETURN count(room) AS rooms, collect(room.room_version)[0] AS room_version }
     CALL () { MATCH (e:Event {room_id: $room_id}) WHERE NOT e:Placeholder RETURN count(e) AS events }
     CALL () { MATCH (p:Placeholder {room_id: $room_id}) RETURN count(p) AS placeholders }
     CALL () { MATCH (:Event {room_id: $room_id})-[r:PREV_EVENT]->() RETURN count(r) AS prev_edges }
     CALL () { MATCH (:Event {room_id: $room_id})-[r:AUTH_EVENT]->() RETURN count(r) AS auth_edges }
     CALL () { MATCH (:Event)-[r:IN_ROOM]->(:Room {room_id: $room_id}) RETURN count(r) AS in_room }
     RETURN rooms, room_version, events, placeholders, prev_edges, auth_edges, in_room`,
    { room_id: roomId },
  );
  return row!;
}

interface DumpedEvent {
  event_id: string;
  labels: string[];
  prev: string[];
  auth: string[];
  pdu: string | null;
}

/** A canonical dump of a room's events: (event_id, labels, sorted prev ids, sorted auth ids, pdu), by event_id. */
async function dump(roomId: string): Promise<DumpedEvent[]> {
  const found = await query<DumpedEvent>(
    `MATCH (e:Event {room_id: $room_id})
     RETURN e.event_id AS event_id, labels(e) AS labels,
            [(e)-[:PREV_EVENT]->(p) | p.event_id] AS prev, [(e)-[:AUTH_EVENT]->(a) | a.event_id] AS auth, e.pdu AS pdu`,
    { room_id: roomId },
  );
  return found
    .map((event) => ({ ...event, labels: [...event.labels].sort(), prev: [...event.prev].sort(), auth: [...event.auth].sort() }))
    .sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
}

interface DumpedState {
  type: string;
  state_key: string;
  event_id: string;
  current: string[];
  sender: string;
  content: string;
  membership: string | null;
  member_server: string | null;
}

/**
 * The room's current state ((:Room)-[:CURRENT_STATE]->(:State), read down its deltas to the snapshot), by
 * (type, state_key), with each entry's event: its sender, content, and for members the membership and server.
 */
async function currentState(roomId: string): Promise<DumpedState[]> {
  const found = await currentStateEntries(graph, roomId);
  return found
    .map(({ type, state_key, event_id, pdu }) => {
      const parsed = JSON.parse(pdu) as { sender: string; content: Record<string, unknown> };
      const isMember = type === 'm.room.member';
      return {
        type, state_key, event_id, current: [event_id], sender: parsed.sender, content: JSON.stringify(parsed.content),
        membership: isMember ? (parsed.content.membership as string) : null,
        member_server: isMember ? serverNameOf(state_key)! : null,
      };
    })
    .sort((a, b) => (a.type === b.type ? (a.state_key < b.state_key ? -1 : 1) : a.type < b.type ? -1 : 1));
}

/** Removes a room this file imported, so the same events can be imported again in another order. */
async function deleteRoom(roomId: string): Promise<void> {
  await deleteRoomGraph(graph, roomId);
  expect(await counts(roomId)).toEqual({
    rooms: 0, room_version: null, events: 0, placeholders: 0, prev_edges: 0, auth_edges: 0, in_room: 0,
  });
}

// --- what the graph should hold, from the input alone ----------------------------------------------------------

function referencedIds(pdu: Pdu, field: 'prev_events' | 'auth_events'): string[] {
  return (pdu[field] as unknown[]).map((entry) => (Array.isArray(entry) ? (entry[0] as string) : (entry as string)));
}

/** The one kind label every stored event carries, written out here from the README's list. */
function kindLabel(pdu: Pdu): string {
  if (typeof pdu.state_key !== 'string') return 'Message';
  return ({ 'm.room.create': 'Create', 'm.room.member': 'Membership', 'm.room.power_levels': 'PowerLevels' } as Record<string, string>)[pdu.type as string] ?? 'StateEvent';
}

/** The dump of a room of accepted events: its forward extremities (the events no event names) labelled Extremity. */
function expectedDump(events: readonly BuiltEvent[]): DumpedEvent[] {
  const named = new Set(events.flatMap((event) => referencedIds(event.pdu, 'prev_events')));
  return events
    .map((event) => ({
      event_id: event.event_id,
      labels: ['Event', kindLabel(event.pdu), ...(named.has(event.event_id) ? [] : ['Extremity'])].sort(),
      prev: referencedIds(event.pdu, 'prev_events').sort(),
      auth: referencedIds(event.pdu, 'auth_events').sort(),
      pdu: JSON.stringify(event.pdu),
    }))
    .sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
}

function expectedCounts(events: readonly BuiltEvent[], roomVersion: string): Counts {
  return {
    rooms: 1,
    room_version: roomVersion,
    events: events.length,
    placeholders: 0,
    prev_edges: events.reduce((sum, event) => sum + (event.pdu.prev_events as unknown[]).length, 0),
    auth_edges: events.reduce((sum, event) => sum + (event.pdu.auth_events as unknown[]).length, 0),
    in_room: events.length,
  };
}

/**
 * The current state of a room whose state changes all lie on one line of its DAG (as in generated rooms, whose forks
 * hold messages only): per (type, state_key), the deepest event. Where branches disagree, state resolution decides
 * (tests below and test/integration/state-resolution.test.ts).
 */
function expectedState(events: readonly BuiltEvent[]): DumpedState[] {
  const winners = new Map<string, BuiltEvent>();
  for (const event of events) {
    if (event.state_key === undefined) continue;
    const key = `${event.type}\u0000${event.state_key}`;
    const current = winners.get(key);
    const rank = (e: BuiltEvent) => [e.depth, e.pdu.origin_server_ts as number] as const;
    if (
      current === undefined ||
      rank(event)[0] > rank(current)[0] ||
      (rank(event)[0] === rank(current)[0] &&
        (rank(event)[1] > rank(current)[1] || (rank(event)[1] === rank(current)[1] && event.event_id > current.event_id)))
    ) {
      winners.set(key, event);
    }
  }
  return [...winners.values()]
    .map((event) => {
      const content = event.pdu.content as Record<string, unknown>;
      const isMember = event.type === 'm.room.member';
      return {
        type: event.type,
        state_key: event.state_key!,
        event_id: event.event_id,
        current: [event.event_id],
        sender: event.pdu.sender as string,
        content: JSON.stringify(content),
        membership: isMember ? (content.membership as string) : null,
        member_server: isMember ? serverNameOf(event.state_key)! : null,
      };
    })
    .sort((a, b) => (a.type === b.type ? (a.state_key < b.state_key ? -1 : 1) : a.type < b.type ? -1 : 1));
}

// --- inputs ---------------------------------------------------------------------------------------------------

function generated(options: GenerateOptions): { builder: RoomBuilder; events: BuiltEvent[]; lines: string[] } {
  const builder = roomBuilderFor(options);
  const events = [...generateRoom(options, builder)];
  return { builder, events, lines: events.map((event) => JSON.stringify(event.pdu)) };
}

/** A room with create, alice's join, public join rules (so that others may join) and bob's join. */
function room(seed: string, version = '10'): RoomBuilder {
  const builder = new RoomBuilder(version, `importer/${seed}`);
  builder.create(ALICE);
  builder.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  builder.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  builder.add({ type: 'm.room.member', state_key: BOB, sender: BOB, content: { membership: 'join' } });
  return builder;
}

function message(builder: RoomBuilder, body: string, prev?: readonly BuiltEvent[], sender = ALICE, ts?: number): BuiltEvent {
  return builder.add({ type: 'm.room.message', sender, content: { msgtype: 'm.text', body }, ...(prev ? { prev } : {}) }, ts);
}

/** The event's line, after `change` to a copy of its PDU. */
function line(event: BuiltEvent, change: (pdu: Pdu) => void = () => {}): string {
  const pdu = structuredClone(event.pdu);
  change(pdu);
  return JSON.stringify(pdu);
}

/** The summary without its timing. */
function totals(summary: ImportSummary): Omit<ImportSummary, 'seconds'> {
  expect(summary.seconds).toBeGreaterThanOrEqual(0);
  const { seconds: _seconds, ...rest } = summary;
  return rest;
}

const summaryOf = (partial: Partial<Omit<ImportSummary, 'seconds'>>) => ({
  stored: 0, unchanged: 0, skipped: 0, hashMismatches: 0, rejected: 0, softFailed: 0, statePending: 0, rooms: 0, ...partial,
});

const unknownRoom = (roomId: string) =>
  `room ${roomId} has no m.room.create in the input or the database, so its room version is unknown`;

// --- tests ----------------------------------------------------------------------------------------------------

describe.each(['1', '10', '11', '12'])('importing a generated room of version %s', (roomVersion) => {
  it('stores every line: events, PREV_EVENT, AUTH_EVENT and IN_ROOM edges, the Room with its version', async () => {
    const { builder, events, lines } = generated({ events: 60, roomVersion, seed: `importer/counts/v${roomVersion}` });
    const { summary, problems } = await importLines(graph, lines, 'room.jsonl');
    expect(problems).toEqual([]);
    expect(totals(summary)).toEqual(summaryOf({ stored: 60, rooms: 1 }));

    expect(await counts(builder.roomId)).toEqual(expectedCounts(events, roomVersion));
    const forks = events.filter((event) => (event.pdu.prev_events as unknown[]).length >= 2);
    expect(forks.length).toBeGreaterThan(0);
    expect(await dump(builder.roomId)).toEqual(expectedDump(events));
    expect(await currentState(builder.roomId)).toEqual(expectedState(events));
  });

  it('changes nothing when imported again: stored 0, unchanged N, identical nodes and edges', async () => {
    const { builder, events, lines } = generated({ events: 40, roomVersion, seed: `importer/again/v${roomVersion}` });
    const first = await importLines(graph, lines, 'room.jsonl');
    expect(first.problems).toEqual([]);
    expect(totals(first.summary)).toEqual(summaryOf({ stored: 40, rooms: 1 }));
    const before = { counts: await counts(builder.roomId), dump: await dump(builder.roomId), state: await currentState(builder.roomId) };
    expect(before.counts).toEqual(expectedCounts(events, roomVersion));

    const again = await importLines(graph, lines, 'room.jsonl');
    expect(again.problems).toEqual([]);
    expect(totals(again.summary)).toEqual(summaryOf({ unchanged: 40, rooms: 1 }));
    expect({ counts: await counts(builder.roomId), dump: await dump(builder.roomId), state: await currentState(builder.roomId) }).toEqual(
      before,
    );
  });
});

describe('a v12 room', () => {
  it('takes its room ID from the create event, which carries no room_id', async () => {
    const { builder, events, lines } = generated({ events: 12, roomVersion: '12', seed: 'importer/v12-room-id' });
    const create = events[0]!;
    expect('room_id' in create.pdu).toBe(false);
    expect(builder.roomId).toBe(`!${create.event_id.slice(1)}`);
    const { problems } = await importLines(graph, lines);
    expect(problems).toEqual([]);
    const [row] = await query<{ room_id: string; room: string[] }>(
      'MATCH (e:Event {event_id: $event_id}) RETURN e.room_id AS room_id, [(e)-[:IN_ROOM]->(r) | r.room_id] AS room',
      { event_id: create.event_id },
    );
    expect(row).toEqual({ room_id: builder.roomId, room: [builder.roomId] });
  });
  it('refuses a create event that carries a room_id (MSC4291: "If the create event has a room_id, reject")', async () => {
    const { builder, lines } = generated({ events: 4, roomVersion: '12', seed: 'importer/v12-create-room-id' });
    const [createLine, ...rest] = lines as [string, ...string[]];
    // Naming another room: the room ID still comes from the create event's hash, and the event is refused.
    const withRoomId = JSON.stringify({ ...JSON.parse(createLine), room_id: '!victim:hs1.test' });
    const { summary, problems } = await importLines(graph, [withRoomId, ...rest], 'v12.jsonl');
    expect(problems).toEqual([
      { at: 'v12.jsonl:1', message: 'an m.room.create of room version 12 must not have a room_id', severity: 'error' },
      ...[2, 3, 4].map((at) => ({ at: `v12.jsonl:${at}`, message: unknownRoom(builder.roomId), severity: 'error' })),
    ]);
    expect(totals(summary)).toEqual(summaryOf({ skipped: 4 }));
    expect((await counts(builder.roomId)).rooms).toBe(0);
    expect((await counts('!victim:hs1.test')).rooms).toBe(0);
  });
});

describe.each(['1', '10', '12'])('importing the lines of a v%s room in another order', (roomVersion) => {
  it('gives an identical graph and current state in order, reversed, shuffled, create-first-then-reversed', async () => {
    const { builder, events, lines } = generated({ events: 50, roomVersion, seed: `importer/order/v${roomVersion}` });
    const orders: [string, string[], number | undefined][] = [
      ['in order', lines, undefined],
      ['reversed', [...lines].reverse(), 4],
      ['shuffled', shuffled(lines, `order/${roomVersion}/1`), 3],
      ['shuffled again', shuffled(lines, `order/${roomVersion}/2`), 1],
      ['create first, then reversed', [lines[0]!, ...lines.slice(1).reverse()], 2],
    ];
    const expected = { counts: expectedCounts(events, roomVersion), dump: expectedDump(events), state: expectedState(events) };
    for (const [name, ordered, batchSize] of orders) {
      await deleteRoom(builder.roomId);
      const { summary, problems } = await importLines(graph, ordered, name, batchSize);
      expect([name, problems]).toEqual([name, []]);
      expect([name, totals(summary)]).toEqual([name, summaryOf({ stored: 50, rooms: 1 })]);
      const got = { counts: await counts(builder.roomId), dump: await dump(builder.roomId), state: await currentState(builder.roomId) };
      expect([name, got]).toEqual([name, expected]);
    }
  });
});

describe('batch boundaries', () => {
  it('give the same graph with batchSize 3 as in one batch (10 events)', async () => {
    const { builder, events, lines } = generated({ events: 10, roomVersion: '11', seed: 'importer/batches' });
    const expected = { counts: expectedCounts(events, '11'), dump: expectedDump(events), state: expectedState(events) };
    for (const batchSize of [3, 1, 9, 10, undefined]) {
      await deleteRoom(builder.roomId);
      const { summary, problems } = await importLines(graph, lines, 'batches', batchSize);
      expect([batchSize, problems, totals(summary)]).toEqual([batchSize, [], summaryOf({ stored: 10, rooms: 1 })]);
      const got = { counts: await counts(builder.roomId), dump: await dump(builder.roomId), state: await currentState(builder.roomId) };
      expect([batchSize, got]).toEqual([batchSize, expected]);
    }
  });
});

describe('placeholders', () => {
  it('an event referenced before it is imported is a :Placeholder with the room_id, filled in later', async () => {
    const r = room('placeholder');
    const m1 = message(r, 'm1');
    const m2 = message(r, 'm2');
    const m3 = message(r, 'm3');
    const without = r.events.filter((event) => event !== m2);

    const first = await importLines(graph, without, 'first');
    expect(first.problems).toEqual([]);
    expect(totals(first.summary)).toEqual(summaryOf({ stored: 6, statePending: 1, rooms: 1 }));
    // m3's PREV_EVENT edge leads to the placeholder; m2's own edges are not there yet.
    expect(await counts(r.roomId)).toEqual({ ...expectedCounts(without, '10'), placeholders: 1 });
    const [placeholder] = await query<{ labels: string[]; properties: Record<string, unknown>; into: string[]; out: number }>(
      `MATCH (p:Event {event_id: $event_id})
       RETURN labels(p) AS labels, properties(p) AS properties, [(e)-[:PREV_EVENT]->(p) | e.event_id] AS into,
              COUNT { (p)-[]->() } AS out`,
      { event_id: m2.event_id },
    );
    expect({ ...placeholder!, labels: [...placeholder!.labels].sort() }).toEqual({
      labels: ['Event', 'Placeholder'],
      properties: { event_id: m2.event_id, room_id: r.roomId },
      into: [m3.event_id],
      out: 0,
    });

    const [{ m1State }] = (await query<{ m1State: string }>('MATCH (e:Event {event_id: $id}) RETURN e.state_after AS m1State', { id: m1.event_id })) as [{ m1State: string }];
    const second = await importLines(graph, [m2], 'second');
    expect(second.problems).toEqual([]);
    expect(totals(second.summary)).toEqual(summaryOf({ stored: 1, rooms: 1 }));
    const [filled] = await query<{ labels: string[]; properties: Record<string, unknown>; into: string[] }>(
      `MATCH (p:Event {event_id: $event_id})
       RETURN labels(p) AS labels, properties(p) AS properties, [(e)-[:PREV_EVENT]->(p) | e.event_id] AS into`,
      { event_id: m2.event_id },
    );
    expect({ ...filled!, labels: [...filled!.labels].sort() }).toEqual({
      labels: ['Event', 'Message'],
      properties: {
        event_id: m2.event_id,
        room_id: r.roomId,
        type: 'm.room.message',
        sender: ALICE,
        origin_server_ts: m2.pdu.origin_server_ts,
        depth: m2.depth,
        pdu: JSON.stringify(m2.pdu),
        content_hash_ok: true,
        // A message: the state before and after it is the state after its prev event m1.
        state_before: m1State,
        state_after: m1State,
      },
      into: [m3.event_id],
    });
    expect(await counts(r.roomId)).toEqual(expectedCounts(r.events, '10'));
    expect(await dump(r.roomId)).toEqual(expectedDump(r.events));
  });

  it('a missing state event: one placeholder for all its prev and auth references, not current state until imported', async () => {
    const r = room('placeholder-state', '1');
    const [create, aliceJoin, joinRules, bobJoin] = r.events as [BuiltEvent, BuiltEvent, BuiltEvent, BuiltEvent];
    const m1 = message(r, 'm1', undefined, BOB);
    const m2 = message(r, 'm2', undefined, BOB);

    const first = await importLines(graph, [create, aliceJoin, joinRules, m1, m2], 'first');
    expect(first.problems).toEqual([]);
    // bob's join: m1's prev and auth, m2's auth.
    const [row] = await query<{ labels: string[]; room_id: string; prev: string[]; auth: string[] }>(
      `MATCH (p:Event {event_id: $event_id})
       RETURN labels(p) AS labels, p.room_id AS room_id, [(e)-[:PREV_EVENT]->(p) | e.event_id] AS prev,
              [(e)-[:AUTH_EVENT]->(p) | e.event_id] AS auth`,
      { event_id: bobJoin.event_id },
    );
    expect({ ...row!, labels: [...row!.labels].sort(), auth: [...row!.auth].sort() }).toEqual({
      labels: ['Event', 'Placeholder'],
      room_id: r.roomId,
      prev: [m1.event_id],
      auth: [m1.event_id, m2.event_id].sort(),
    });
    expect(await counts(r.roomId)).toMatchObject({ events: 5, placeholders: 1 });
    // m1 and m2 wait for bob's join (StatePending): the current state is what is known.
    expect((await currentState(r.roomId)).map((state) => [state.type, state.state_key])).toEqual([
      ['m.room.create', ''],
      ['m.room.join_rules', ''],
      ['m.room.member', ALICE],
    ]);

    const second = await importLines(graph, [bobJoin], 'second');
    expect(second.problems).toEqual([]);
    expect(totals(second.summary)).toEqual(summaryOf({ stored: 1, rooms: 1 }));
    expect(await counts(r.roomId)).toEqual(expectedCounts(r.events, '1'));
    expect(await dump(r.roomId)).toEqual(expectedDump(r.events));
    expect(await currentState(r.roomId)).toEqual(expectedState(r.events));
  });
});

describe('bad lines', () => {
  it('are reported with their exact file:line and message and skipped; every good line is stored (v10)', async () => {
    const r = room('malformed');
    const good = [r.events[0]!, r.events[1]!, r.events[2]!, message(r, 'good 1'), message(r, 'good 2'), r.events[3]!];
    const bad = message(r, 'template');
    const jsonError = (text: string) => {
      try {
        JSON.parse(text);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('parsed');
    };
    const lines = [
      line(good[0]!), //                                                                 1
      'not json', //                                                                     2
      '{"type": "m.room.message", ', //                                                  3
      '[1, 2]', //                                                                       4
      '"a string"', //                                                                   5
      'null', //                                                                         6
      line(good[1]!), //                                                                 7
      '', //                                                                             8: blank, ignored
      line(bad, (pdu) => delete pdu.sender), //                                          9
      line(bad, (pdu) => delete pdu.room_id), //                                         10
      line(bad, (pdu) => (pdu.prev_events = 'abc')), //                                  11
      line(bad, (pdu) => (pdu.prev_events = [[good[2]!.event_id, {}]])), //              12
      line(bad, (pdu) => (pdu.auth_events = [good[0]!.event_id, 7])), //                 13
      line(good[2]!), //                                                                 14
      line(bad, (pdu) => (pdu.depth = -1)), //                                           15
      line(bad, (pdu) => (pdu.origin_server_ts = 1.5)), //                               16
      line(bad, (pdu) => (pdu.content = 'text')), //                                     17
      line(bad, (pdu) => (pdu.state_key = 5)), //                                        18
      line(bad, (pdu) => (pdu.type = null)), //                                          19
      line(bad, (pdu) => (pdu.prev_events = ['not-an-event-id'])), //                    20
      line(good[3]!), //                                                                 21
      '   ', //                                                                          22: blank, ignored
      line(good[4]!), //                                                                 23
      line(good[5]!), //                                                                 24
    ];
    const { summary, problems } = await importLines(graph, lines, 'bad.jsonl');
    const error = (at: number, message: string) => ({ at: `bad.jsonl:${at}`, message, severity: 'error' });
    expect(problems).toEqual([
      error(2, `not JSON: ${jsonError('not json')}`),
      error(3, `not JSON: ${jsonError('{"type": "m.room.message",')}`),
      error(4, 'not a JSON object'),
      error(5, 'not a JSON object'),
      error(6, 'not a JSON object'),
      error(9, 'sender is missing or not a string'),
      error(10, 'room_id is missing or not a string'),
      error(11, 'prev_events is not a list of event IDs'),
      error(12, 'prev_events is not a list of event IDs'),
      error(13, 'auth_events is not a list of event IDs'),
      error(15, 'depth is missing or not a non-negative integer'),
      error(16, 'origin_server_ts is missing or not a non-negative integer'),
      error(17, 'content is missing or not an object'),
      error(18, 'state_key is not a string'),
      error(19, 'type is missing or not a string'),
      error(20, 'prev_events is not a list of event IDs'),
    ]);
    expect(totals(summary)).toEqual(summaryOf({ stored: 6, skipped: 16, rooms: 1 }));
    expect(await counts(r.roomId)).toEqual(expectedCounts(good, '10'));
    expect(await dump(r.roomId)).toEqual(expectedDump(good));
  });

  it('v1: references that are not [event_id, {sha256}] pairs and a missing event_id are reported', async () => {
    const r = room('malformed-v1', '1');
    const [create, aliceJoin, joinRules, bobJoin] = r.events as [BuiltEvent, BuiltEvent, BuiltEvent, BuiltEvent];
    const bad = message(r, 'template');
    const lines = [
      line(create),
      line(aliceJoin),
      line(bad, (pdu) => (pdu.prev_events = [aliceJoin.event_id])),
      line(bad, (pdu) => (pdu.prev_events = [[aliceJoin.event_id]])),
      line(bad, (pdu) => (pdu.prev_events = [[aliceJoin.event_id, { sha256: 'x' }, 'extra']])),
      line(bad, (pdu) => (pdu.auth_events = [[create.event_id, 'sha256']])),
      line(bad, (pdu) => delete pdu.event_id),
      line(bad, (pdu) => (pdu.event_id = 'no-sigil')),
      line(joinRules),
      line(bobJoin),
    ];
    const { summary, problems } = await importLines(graph, lines, 'v1.jsonl');
    const error = (at: number, message: string) => ({ at: `v1.jsonl:${at}`, message, severity: 'error' });
    expect(problems).toEqual([
      error(3, 'prev_events is not a list of [event_id, {sha256}] pairs'),
      error(4, 'prev_events is not a list of [event_id, {sha256}] pairs'),
      error(5, 'prev_events is not a list of [event_id, {sha256}] pairs'),
      error(6, 'auth_events is not a list of [event_id, {sha256}] pairs'),
      error(7, 'event_id is missing or not an event ID'),
      error(8, 'event_id is missing or not an event ID'),
    ]);
    expect(totals(summary)).toEqual(summaryOf({ stored: 4, skipped: 6, rooms: 1 }));
    expect(await dump(r.roomId)).toEqual(expectedDump([create, aliceJoin, joinRules, bobJoin]));
  });
});

describe('a file mixing rooms', () => {
  it('imports three rooms of versions 1, 10 and 11 interleaved, each with its own version', async () => {
    const rooms = ['1', '10', '11'].map((roomVersion) =>
      ({ roomVersion, ...generated({ events: 30, roomVersion, seed: `importer/mixed/v${roomVersion}` }) }));
    // Round robin; the v1 create comes first, the v10 create after four of its room's events and the v11 create
    // last, so one room's version is known at once, one's events wait a while and one's wait to the end.
    const [v1, v10, v11] = rooms as [(typeof rooms)[0], (typeof rooms)[0], (typeof rooms)[0]];
    const lines: string[] = [v1.lines[0]!];
    for (let i = 1; i < 30; i++) {
      for (const r of rooms) lines.push(r.lines[i]!);
      if (i === 4) lines.push(v10.lines[0]!);
    }
    lines.push(v11.lines[0]!);
    expect([lines.length, new Set(lines).size]).toEqual([90, 90]);

    const { summary, problems } = await importLines(graph, lines, 'mixed.jsonl', 7);
    expect(problems).toEqual([]);
    expect(totals(summary)).toEqual(summaryOf({ stored: 90, rooms: 3 }));
    for (const r of rooms) {
      expect([r.roomVersion, await counts(r.builder.roomId)]).toEqual([r.roomVersion, expectedCounts(r.events, r.roomVersion)]);
      expect(await dump(r.builder.roomId)).toEqual(expectedDump(r.events));
      expect(await currentState(r.builder.roomId)).toEqual(expectedState(r.events));
    }
  });
});

describe('the room version', () => {
  it('events of a room whose m.room.create is neither in the input nor stored: one error per line naming the room', async () => {
    const r = room('no-create');
    message(r, 'm1');
    message(r, 'm2');
    const lines = r.events.slice(1).map((event) => line(event));
    const { summary, problems } = await importLines(graph, ['', ...lines], 'orphans.jsonl');
    expect(problems).toEqual(
      [2, 3, 4, 5, 6].map((at) => ({ at: `orphans.jsonl:${at}`, message: unknownRoom(r.roomId), severity: 'error' })),
    );
    expect(totals(summary)).toEqual(summaryOf({ skipped: 5 }));
    expect(await counts(r.roomId)).toEqual({
      rooms: 0, room_version: null, events: 0, placeholders: 0, prev_edges: 0, auth_edges: 0, in_room: 0,
    });
  });

  it('comes from the stored room when the create was imported before', async () => {
    const r = room('create-stored', '11');
    message(r, 'm1');
    const first = await importLines(graph, [r.events[0]!], 'create.jsonl');
    expect([first.problems, totals(first.summary)]).toEqual([[], summaryOf({ stored: 1, rooms: 1 })]);
    const second = await importLines(graph, r.events.slice(1), 'rest.jsonl');
    expect([second.problems, totals(second.summary)]).toEqual([[], summaryOf({ stored: 4, rooms: 1 })]);
    expect(await counts(r.roomId)).toEqual(expectedCounts(r.events, '11'));
    expect(await dump(r.roomId)).toEqual(expectedDump(r.events));
  });

  it('a create declaring an unsupported room version ("99") is an error, and so is every event of its room', async () => {
    const r = room('version-99');
    message(r, 'm1');
    const lines = [line(r.events[0]!, (pdu) => ((pdu.content as Record<string, unknown>).room_version = '99')), ...r.events.slice(1).map((e) => line(e))];
    const { summary, problems } = await importLines(graph, lines, 'v99.jsonl');
    expect(problems).toEqual([
      { at: 'v99.jsonl:1', message: 'm.room.create declares unsupported room version "99"', severity: 'error' },
      ...[2, 3, 4, 5].map((at) => ({ at: `v99.jsonl:${at}`, message: unknownRoom(r.roomId), severity: 'error' })),
    ]);
    expect(totals(summary)).toEqual(summaryOf({ skipped: 5 }));
    expect((await counts(r.roomId)).events).toBe(0);
  });

  it('a second create for a stored room declaring another version is refused', async () => {
    const r = room('version-clash', '10');
    const first = await importLines(graph, r.events, 'first.jsonl');
    expect(first.problems).toEqual([]);
    const other = line(r.events[0]!, (pdu) => ((pdu.content as Record<string, unknown>).room_version = '11'));
    const second = await importLines(graph, [other], 'second.jsonl');
    expect(second.problems).toEqual([
      {
        at: 'second.jsonl:1',
        message: `room ${r.roomId} is room version 10, but this m.room.create declares 11`,
        severity: 'error',
      },
    ]);
    expect(totals(second.summary)).toEqual(summaryOf({ skipped: 1 }));
    expect(await dump(r.roomId)).toEqual(expectedDump(r.events));
  });
});

describe('content hashes', () => {
  it('a message tampered with after signing: a warning, stored redacted, hashMismatches 1', async () => {
    const r = room('tampered');
    const m1 = message(r, 'original body');
    const m2 = message(r, 'after');
    const tampered = structuredClone(m1.pdu);
    (tampered.content as Record<string, unknown>).body = 'tampered body';
    const lines = [...r.events.slice(0, 4).map((e) => line(e)), JSON.stringify(tampered), line(m2)];

    const { summary, problems } = await importLines(graph, lines, 'tampered.jsonl');
    expect(problems).toEqual([
      { at: 'tampered.jsonl:5', message: `content hash of ${m1.event_id} does not match; stored redacted`, severity: 'warning' },
    ]);
    expect(totals(summary)).toEqual(summaryOf({ stored: 6, hashMismatches: 1, rooms: 1 }));

    const redacted = redactEvent(tampered, getRoomVersion('10')!);
    expect(redacted.content).toEqual({});
    const [row] = await query<{ pdu: string; content_hash_ok: boolean }>(
      'MATCH (e:Event {event_id: $event_id}) RETURN e.pdu AS pdu, e.content_hash_ok AS content_hash_ok',
      { event_id: m1.event_id },
    );
    expect(row).toEqual({ pdu: JSON.stringify(redacted), content_hash_ok: false });
    expect(await counts(r.roomId)).toEqual(expectedCounts(r.events, '10'));
    // Everything else is stored as it arrived.
    expect((await dump(r.roomId)).filter((event) => event.event_id !== m1.event_id)).toEqual(
      expectedDump(r.events).filter((event) => event.event_id !== m1.event_id),
    );
  });
});

describe('the same event ID with another PDU (v1)', () => {
  /** m1 again, with another body, hashed and signed properly: the same event_id, another valid PDU. */
  function rewritten(builder: RoomBuilder, event: BuiltEvent): string {
    const { hashes: _h, signatures: _s, ...unsigned } = structuredClone(event.pdu);
    (unsigned.content as Record<string, unknown>).body = 'another body';
    const server = serverNameOf(unsigned.sender)!;
    return JSON.stringify(hashAndSignEvent(unsigned, builder.version, server, builder.keyOf(server)));
  }

  it('in one file: an error at the second line, the first one kept', async () => {
    const r = room('conflict-same-file', '1');
    const m1 = message(r, 'first body');
    const other = rewritten(r, m1);
    expect(JSON.parse(other).event_id).toBe(m1.event_id);
    const lines = [...r.events.map((e) => line(e)), other, line(m1)];

    const { summary, problems } = await importLines(graph, lines, 'conflict.jsonl');
    expect(problems).toEqual([
      { at: 'conflict.jsonl:6', message: `${m1.event_id} is also at conflict.jsonl:5 with another PDU; kept that one`, severity: 'error' },
    ]);
    expect(totals(summary)).toEqual(summaryOf({ stored: 5, unchanged: 1, skipped: 1, rooms: 1 }));
    expect(await dump(r.roomId)).toEqual(expectedDump(r.events));
  });

  it('already stored: an error, the stored one kept', async () => {
    const r = room('conflict-stored', '1');
    const m1 = message(r, 'first body');
    const first = await importLines(graph, r.events, 'first.jsonl');
    expect([first.problems, totals(first.summary)]).toEqual([[], summaryOf({ stored: 5, rooms: 1 })]);

    const second = await importLines(graph, ['', rewritten(r, m1)], 'second.jsonl');
    expect(second.problems).toEqual([
      { at: 'second.jsonl:2', message: `${m1.event_id} is already stored with another PDU; kept the stored one`, severity: 'error' },
    ]);
    expect(totals(second.summary)).toEqual(summaryOf({ skipped: 1, rooms: 1 }));
    expect(await dump(r.roomId)).toEqual(expectedDump(r.events));
    expect(await counts(r.roomId)).toEqual(expectedCounts(r.events, '1'));
  });
});

describe('the current state', () => {
  it('has each member’s membership and server (with its port), the latest membership winning', async () => {
    const r = room('members');
    const CAROL = '@carol:hs3.test:8448';
    const carolJoins = r.add({ type: 'm.room.member', state_key: CAROL, sender: CAROL, content: { membership: 'join' } });
    message(r, 'hello');
    const bobLeaves = r.add({ type: 'm.room.member', state_key: BOB, sender: BOB, content: { membership: 'leave' } });
    const dave = r.add({ type: 'm.room.member', state_key: '@dave:hs4.test', sender: ALICE, content: { membership: 'invite' } });
    const { problems } = await importLines(graph, shuffled(r.events, 'members'), 'members.jsonl', 2);
    expect(problems).toEqual([]);

    const state = await currentState(r.roomId);
    expect(state.filter((s) => s.type === 'm.room.member').map((s) => [s.state_key, s.membership, s.member_server, s.event_id])).toEqual([
      [ALICE, 'join', 'hs1.test', r.events[1]!.event_id],
      [BOB, 'leave', 'hs2.test', bobLeaves.event_id],
      [CAROL, 'join', 'hs3.test:8448', carolJoins.event_id],
      ['@dave:hs4.test', 'invite', 'hs4.test', dave.event_id],
    ]);
    expect(state).toEqual(expectedState(r.events));
    expect(state.find((s) => s.type === 'm.room.create')).toMatchObject({ membership: null, member_server: null, sender: ALICE });
  });

  /** base, then two branches from it that each set m.room.name, then a merge. */
  function fork(
    seed: string,
    branchA: (r: RoomBuilder, base: BuiltEvent) => BuiltEvent,
    branchB: (r: RoomBuilder, base: BuiltEvent) => BuiltEvent,
  ): { r: RoomBuilder; a: BuiltEvent; b: BuiltEvent } {
    const r = room(seed);
    const base = message(r, 'base');
    const a = branchA(r, base);
    const b = branchB(r, base);
    message(r, 'merge', [a, b]);
    return { r, a, b };
  }

  const name = (r: RoomBuilder, value: string, prev: BuiltEvent, ts?: number, sender = ALICE) =>
    r.add({ type: 'm.room.name', state_key: '', sender, content: { name: value }, prev: [prev] }, ts);

  /** Imports the room in several orders and batch sizes; the current name is `winner` every time. */
  async function expectWinnerInEveryOrder(r: RoomBuilder, winner: BuiltEvent, loser: BuiltEvent): Promise<void> {
    const lines = r.events.map((e) => line(e));
    const winnerAt = r.events.indexOf(winner);
    const loserAt = r.events.indexOf(loser);
    const withoutBoth = lines.filter((_, i) => i !== winnerAt && i !== loserAt);
    const orders: [string, string[], number | undefined][] = [
      ['in order', lines, undefined],
      ['in order, one event a batch', lines, 1],
      ['reversed', [...lines].reverse(), undefined],
      ['create first, then reversed, one a batch', [lines[0]!, ...lines.slice(1).reverse()], 1],
      ['shuffled', shuffled(lines, `${r.roomId}/1`), 2],
      ['winner before loser, one a batch', [...withoutBoth, lines[winnerAt]!, lines[loserAt]!], 1],
      ['loser before winner, one a batch', [...withoutBoth, lines[loserAt]!, lines[winnerAt]!], 1],
    ];
    for (const [order, ordered, batchSize] of orders) {
      await deleteRoom(r.roomId);
      const { problems } = await importLines(graph, ordered, order, batchSize);
      expect([order, problems]).toEqual([order, []]);
      const names = (await currentState(r.roomId)).filter((s) => s.type === 'm.room.name');
      expect([order, names]).toEqual([
        order,
        [{
          type: 'm.room.name', state_key: '', event_id: winner.event_id, current: [winner.event_id], sender: winner.pdu.sender,
          content: JSON.stringify(winner.pdu.content), membership: null, member_server: null,
        }],
      ]);
    }
  }

  // State resolution v2 (room version 10) applies the conflicting names in mainline order, then by
  // origin_server_ts, then by event_id, and the last one applied wins; depth plays no part.
  it('two branches set the room name: the later origin_server_ts wins, even at a smaller depth', async () => {
    const { r, a, b } = fork(
      'fork-depth',
      (r, base) => name(r, 'A', base, 1_800_000_000_000),
      (r, base) => name(r, 'B', message(r, 'b1', [base], BOB, 1_700_000_100_000), 1_700_000_100_001),
    );
    expect(b.depth).toBe(a.depth + 1);
    expect(b.pdu.origin_server_ts as number).toBeLessThan(a.pdu.origin_server_ts as number);
    await expectWinnerInEveryOrder(r, a, b);
  });

  it('at equal depth, the later origin_server_ts wins, whatever the event IDs', async () => {
    const { r, a, b } = fork(
      'fork-ts',
      (r, base) => name(r, 'A', base, 1_800_000_000_002),
      (r, base) => name(r, 'B', base, 1_800_000_000_001),
    );
    expect(a.depth).toBe(b.depth);
    await expectWinnerInEveryOrder(r, a, b);
  });

  it('at equal depth and origin_server_ts, the greater event_id wins', async () => {
    const { r, a, b } = fork(
      'fork-event-id',
      (r, base) => name(r, 'A', base, 1_800_000_000_000),
      (r, base) => name(r, 'B', base, 1_800_000_000_000),
    );
    expect([a.depth, a.pdu.origin_server_ts]).toEqual([b.depth, b.pdu.origin_server_ts]);
    const [winner, loser] = a.event_id > b.event_id ? [a, b] : [b, a];
    await expectWinnerInEveryOrder(r, winner, loser);
  });
});

describe('concurrent imports', () => {
  it('two importers writing one room at once, each with two batches in flight, give the graph and state of one', async () => {
    const { builder, events, lines } = generated({ events: 400, roomVersion: '10', seed: 'importer/concurrent', servers: 4 });
    const store = new EventStore(graph);
    const problems: string[] = [];
    const importer = (name: string, input: readonly string[]) => async () => {
      const job = new Importer(store, { batchSize: 7, concurrency: 2, onProblem: (p) => problems.push(`${p.at}: ${p.message}`) });
      await job.importLines(input, name);
      return job.finish();
    };
    const [first, second] = await Promise.all([
      importer('forward', lines)(),
      importer('shuffled', shuffled(lines, 'importer/concurrent/order'))(),
    ]);
    expect(problems).toEqual([]);
    // Every event was stored by exactly one of them and found already stored by the other.
    expect(first.stored + second.stored).toBe(events.length);
    expect(first.unchanged + second.unchanged).toBe(events.length);
    expect(await counts(builder.roomId)).toEqual(expectedCounts(events, '10'));
    expect(await dump(builder.roomId)).toEqual(expectedDump(events));
    expect(await currentState(builder.roomId)).toEqual(expectedState(events));
  });

  it('a batch whose write commits before the earlier batch it rests on carries those states: no state is left without its entries', async () => {
    // Batches of 3: the create, alice's join and the join rules; then bob's join and a topic, whose states are
    // deltas on the state after the join rules, and a message; then another topic.
    const builder = room('out-of-order-commit');
    builder.add({ type: 'm.room.topic', state_key: '', sender: ALICE, content: { topic: 'first' } });
    builder.add({ type: 'm.room.message', sender: BOB, content: { msgtype: 'm.text', body: 'hello' } });
    builder.add({ type: 'm.room.topic', state_key: '', sender: ALICE, content: { topic: 'second' } });
    const events = builder.events;
    const lines = events.map((event) => line(event));
    const store = new EventStore(graph);
    const graphWrites = graphSink(store, new StateStore(graph));
    // The graph as the importer's sink, except that the first batch's write (the one with the create event) waits
    // until the second one (with bob's join) committed.
    const bobJoin = events[3]!.event_id;
    let releaseFirst!: () => void;
    const firstMayGo = new Promise<void>((resolve) => (releaseFirst = resolve));
    const between: { unfilled: number; states: number }[] = [];
    const sink: ImportSink = {
      ...graphWrites,
      importEvents: async (batch, work, pending, redactions) => {
        if (batch.some((event) => event.type === 'm.room.create')) {
          await firstMayGo;
          return graphWrites.importEvents(batch, work, pending, redactions);
        }
        const outcomes = await graphWrites.importEvents(batch, work, pending, redactions);
        if (batch.some((event) => event.event_id === bobJoin)) {
          // Every state the graph holds for the room now, with those they rest on: each has its entries.
          between.push(...(await query<{ unfilled: number; states: number }>(
            `MATCH (:State {room_id: $room_id})-[:DELTA_OF*0..]->(state:State)
             WITH DISTINCT state
             RETURN count(CASE WHEN state.hops IS NULL OR state.types IS NULL THEN 1 END) AS unfilled, count(state) AS states`,
            { room_id: builder.roomId },
          )));
          releaseFirst();
        }
        return outcomes;
      },
    };
    const importer = new Importer(sink, { batchSize: 3, concurrency: 2 });
    await importer.importLines(lines, 'out-of-order');
    await importer.finish();
    await new Importer(store).settle([builder.roomId]);
    // After the second batch: the states after bob's join and the first topic, and the four they rest on (the empty
    // state, and the states after the create, alice's join and the join rules), each with its entries.
    expect(between).toEqual([{ unfilled: 0, states: 6 }]);
    expect(await counts(builder.roomId)).toEqual(expectedCounts(events, '10'));
    expect(await dump(builder.roomId)).toEqual(expectedDump(events));
    expect(await currentState(builder.roomId)).toEqual(expectedState(events));
  });
});
