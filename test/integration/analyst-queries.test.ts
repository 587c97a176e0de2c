/**
 * The Cypher queries shipped for analysts (cypher/queries/*.cypher), run against the real Neo4j on a room built
 * event by event, with exact answers; get-missing-events.cypher also against the endpoint's own walk on generated
 * rooms with forks, merges and state conflicts.
 */
import neo4j from 'neo4j-driver';
import { computeEventId } from '../../src/core/event-hashes';
import { getRoomVersion } from '../../src/core/room-versions';
import { generateRoom, roomBuilderFor, type GenerateOptions } from '../../src/generator/generate-room';
import type { IrregularEvents } from '../../src/generator/irregular-events';
import { RoomBuilder } from '../../src/generator/room-builder';
import { loadCypher } from '../../src/store/cypher-files';
import { EventStore } from '../../src/store/event-store';
import { plain, type Graph } from '../../src/store/neo4j';
import { ALICE, BOB, CAROL, DAVE, EVE, buildEveryKindRoom } from '../helpers/every-kind-room';
import { importLines, openTestGraph } from '../helpers/graph';
import { deleteRoomGraph } from '../helpers/room-graph';

const QUERIES = loadCypher([
  'queries/rooms', 'queries/newest-events', 'queries/forks', 'queries/joined-servers', 'queries/missing-events',
  'queries/state-at-event', 'queries/rejected-events', 'queries/forward-extremities', 'queries/forks-and-merges',
  'queries/depth-histogram', 'queries/events-per-server', 'queries/events-per-sender', 'queries/state-key-timeline',
  'queries/path-between-events', 'queries/get-missing-events',
]);

let graph: Graph;
const r = new RoomBuilder('10', 'analyst-queries');
/** Named events of the room (test/helpers/every-kind-room.ts); `gap` is never imported. */
const e = buildEveryKindRoom(r);
/** Another room: generated, ending with irregular events as the demo room and `generate --conflicts` do. */
const irregularOptions: GenerateOptions = { events: 60, roomVersion: '10', seed: 'analyst-queries/irregular', servers: 3, irregular: true };
const irregularRoom = roomBuilderFor(irregularOptions);
let irregularEvents: IrregularEvents | undefined;
const irregularLines = [...generateRoom(irregularOptions, irregularRoom, () => {}, (added) => (irregularEvents = added))];
const irregular = () => irregularEvents!;
beforeAll(async () => {
  graph = await openTestGraph();
  // The rooms' IDs come from fixed seeds: a run before this one (on a shared Neo4j) left them, and the import
  // summaries below count only what an import stores.
  for (const roomId of [r.roomId, irregularRoom.roomId]) await deleteRoomGraph(graph, roomId);
  const { problems, summary } = await importLines(graph, r.events.filter((event) => event !== e.gap));
  expect(problems).toEqual([]);
  expect([summary.rejected, summary.softFailed, summary.statePending]).toEqual([1, 1, 2]);
  const other = await importLines(graph, irregularLines);
  expect(other.problems).toEqual([]);
  expect([other.summary.stored, other.summary.rejected, other.summary.softFailed, other.summary.statePending]).toEqual([60, 1, 1, 1]);
});

afterAll(async () => {
  await graph.driver.close();
});

async function run<T = Record<string, unknown>>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const { records } = await graph.driver.executeQuery(query, params, { database: graph.database });
  return records.map((record) => plain(record.toObject()) as T);
}

/** The names of this test's events, for readable failures: event ID -> name. */
function named(id: string): string {
  return Object.entries(e).find(([, event]) => event.event_id === id)?.[0] ?? id;
}

const ROOM = () => ({ room_id: r.roomId });

it('rooms: the room with its version and stored events', async () => {
  const rooms = await run<{ room_id: string }>(QUERIES['queries/rooms']);
  expect(rooms.filter((row) => row.room_id === r.roomId)).toEqual([{ room_id: r.roomId, room_version: '10', events: 20 }]);
});

it('newest-events: the PREV_EVENT edges among the newest events', async () => {
  const rows = await run<{ path: { start: { properties: { event_id: string } }; end: { properties: { event_id: string } } } }>(
    QUERIES['queries/newest-events'],
    { room_id: r.roomId, count: neo4j.int(6) },
  );
  // The six newest stored: tail and d (15), then the four at 14 (ban, bobMessage, c, intruder).
  const edges = rows.map(({ path }) => `${named(path.start.properties.event_id)} -> ${named(path.end.properties.event_id)}`).sort();
  expect(edges).toEqual(['d -> c', 'tail -> ban', 'tail -> intruder']);
});

it('forks: events named as a prev_event by more than one event', async () => {
  expect(await run(QUERIES['queries/forks'], ROOM())).toEqual([
    { event_id: e.after!.event_id, depth: 13, children: 3 },
    { event_id: e.a!.event_id, depth: 10, children: 2 },
  ]);
});

it('forks-and-merges: forks and events with several prev_events', async () => {
  const rows = await run<{ event_id: string }>(QUERIES['queries/forks-and-merges'], ROOM());
  expect(rows.map((row) => ({ ...row, event_id: named(row.event_id) }))).toEqual([
    { event_id: 'tail', type: 'm.room.message', depth: 15, kind: 'merge', prev_events: 2, children: 0 },
    { event_id: 'after', type: 'm.room.message', depth: 13, kind: 'fork', prev_events: 1, children: 3 },
    { event_id: 'm', type: 'm.room.topic', depth: 12, kind: 'merge', prev_events: 2, children: 1 },
    { event_id: 'a', type: 'm.room.message', depth: 10, kind: 'fork', prev_events: 1, children: 2 },
  ]);
});

it('joined-servers: servers with joined members now', async () => {
  // Bob is banned (the ban is in the current state), dave left.
  expect(await run(QUERIES['queries/joined-servers'], ROOM())).toEqual([
    { server: 'hs1.test', members: 1 },
    { server: 'hs2.test', members: 1 },
  ]);
});

it('missing-events: placeholders and the events that name them', async () => {
  expect(await run(QUERIES['queries/missing-events'], ROOM())).toEqual([{ event_id: e.gap!.event_id, named_by: [e.c!.event_id] }]);
});

it('forward-extremities: the extremity, and the tips that do not count with why', async () => {
  const rows = await run<{ event_id: string; type: string; sender: string; depth: number; status: string; reason: string | null }>(QUERIES['queries/forward-extremities'], ROOM());
  expect(rows.map((row) => [named(row.event_id), row.depth, row.status])).toEqual(
    [
      ['tail', 15, 'forward extremity'],
      ['d', 15, 'state pending'],
      // c is a tip too: d, which names it, has no known state, so it does not hide c (as for the current state).
      ['c', 14, 'state pending'],
      ['bobMessage', 14, 'soft-failed'],
    ].sort((x, y) => (y[1] as number) - (x[1] as number) || byId(x[0] as string, y[0] as string)),
  );
  expect(rows.map((row) => row.reason)).toEqual(
    rows.map((row) =>
      row.status === 'forward extremity' ? null : row.status === 'state pending' ? 'a prev event or auth event has no known state yet' : expect.stringMatching(/^fails the authorization rules on the room's current state: /),
    ),
  );
  expect(rows.map((row) => [row.type, row.sender])).toEqual(rows.map((row) => [e[named(row.event_id)]!.type, e[named(row.event_id)]!.pdu.sender]));
});

/** Orders two of this test's events by event ID, as the queries' `ORDER BY ..., event_id` do. */
function byId(x: string, y: string): number {
  const [a, b] = [e[x]!.event_id, e[y]!.event_id];
  return a < b ? -1 : a > b ? 1 : 0;
}

it('rejected-events: the rejected, soft-failed and pending events with their reasons', async () => {
  const rows = await run<{ event_id: string; depth: number; status: string; reason: string }>(QUERIES['queries/rejected-events'], ROOM());
  const expected = [['intruder', 14, 'rejected'], ['bobMessage', 14, 'soft-failed'], ['c', 14, 'state pending'], ['d', 15, 'state pending']]
    .sort((x, y) => (x[1] as number) - (y[1] as number) || byId(x[0] as string, y[0] as string));
  expect(rows.map((row) => [named(row.event_id), row.depth, row.status])).toEqual(expected);
  const reasons = Object.fromEntries(rows.map((row) => [named(row.event_id), row.reason]));
  expect(reasons.intruder).toMatch(/^fails the authorization rules on its auth_events: /);
  expect(reasons.bobMessage).toMatch(/^fails the authorization rules on the room's current state: /);
  expect([reasons.c, reasons.d]).toEqual(['a prev event or auth event has no known state yet', 'a prev event or auth event has no known state yet']);
});

it('depth-histogram: events per bucket of depths, the widest depth and a bar', async () => {
  expect(await run(QUERIES['queries/depth-histogram'], { room_id: r.roomId, bucket: neo4j.int(5) })).toEqual([
    { depth_from: 1, depth_to: 5, events: 5, widest: 1, bar: '#'.repeat(20) },
    { depth_from: 6, depth_to: 10, events: 5, widest: 1, bar: '#'.repeat(20) },
    { depth_from: 11, depth_to: 15, events: 10, widest: 4, bar: '#'.repeat(40) },
  ]);
  const perDepth = await run<{ depth_from: number; events: number }>(QUERIES['queries/depth-histogram'], { room_id: r.roomId, bucket: neo4j.int(1) });
  expect(perDepth.map((row) => [row.depth_from, row.events])).toEqual([
    [1, 1], [2, 1], [3, 1], [4, 1], [5, 1], [6, 1], [7, 1], [8, 1], [9, 1], [10, 1], [11, 2], [12, 1], [13, 1], [14, 4], [15, 2],
  ]);
});

it('events-per-server: events, senders, state events and rejected per server', async () => {
  expect(await run(QUERIES['queries/events-per-server'], ROOM())).toEqual([
    // alice: create, join, power levels, join rules, topic1, a, b1, m, after, tail, c, d.
    { server: 'hs1.test', senders: 1, events: 12, state_events: 6, rejected: 0 },
    // bob: join, b2, bobMessage; carol: join, ban.
    { server: 'hs2.test', senders: 2, events: 5, state_events: 3, rejected: 0 },
    { server: 'hs3.test', senders: 1, events: 2, state_events: 2, rejected: 0 },
    { server: 'hs4.test', senders: 1, events: 1, state_events: 1, rejected: 1 },
  ]);
});

it('events-per-sender: events per user with state, rejected and soft-failed ones and their depths', async () => {
  expect(await run(QUERIES['queries/events-per-sender'], ROOM())).toEqual([
    { sender: ALICE, events: 12, state_events: 6, rejected: 0, soft_failed: 0, first_depth: 1, last_depth: 15 },
    { sender: BOB, events: 3, state_events: 1, rejected: 0, soft_failed: 1, first_depth: 5, last_depth: 14 },
    { sender: CAROL, events: 2, state_events: 2, rejected: 0, soft_failed: 0, first_depth: 6, last_depth: 14 },
    { sender: DAVE, events: 2, state_events: 2, rejected: 0, soft_failed: 0, first_depth: 7, last_depth: 8 },
    { sender: EVE, events: 1, state_events: 1, rejected: 1, soft_failed: 0, first_depth: 14, last_depth: 14 },
  ]);
});

it('state-key-timeline: every topic in depth order, with its status and the current one', async () => {
  const rows = await run<{ event_id: string; pdu: string }>(QUERIES['queries/state-key-timeline'], { room_id: r.roomId, type: 'm.room.topic', state_key: '' });
  expect(rows.map(({ pdu, ...row }) => ({ ...row, event_id: named(row.event_id), body: (JSON.parse(pdu) as { content: unknown }).content }))).toEqual([
    { depth: 9, event_id: 'topic1', sender: ALICE, origin_server_ts: e.topic1!.pdu.origin_server_ts, status: 'accepted', reason: null, current: false, body: { topic: 'one' } },
    { depth: 12, event_id: 'm', sender: ALICE, origin_server_ts: e.m!.pdu.origin_server_ts, status: 'accepted', reason: null, current: true, body: { topic: 'two' } },
    {
      depth: 14, event_id: 'intruder', sender: EVE, origin_server_ts: e.intruder!.pdu.origin_server_ts, status: 'rejected',
      reason: expect.stringMatching(/^fails the authorization rules on its auth_events: /), current: false, body: { topic: 'eve was here' },
    },
  ]);
  const bob = await run<{ event_id: string; status: string; current: boolean }>(QUERIES['queries/state-key-timeline'], { room_id: r.roomId, type: 'm.room.member', state_key: BOB });
  expect(bob.map((row) => [named(row.event_id).replace(/^\$.*/, 'join'), row.status, row.current])).toEqual([
    ['join', 'accepted', false],
    ['ban', 'accepted', true],
  ]);
  expect(await run(QUERIES['queries/state-key-timeline'], { room_id: r.roomId, type: 'm.room.name', state_key: '' })).toEqual([]);
});

it('state-at-event: the state before an event, one row per key', async () => {
  const rows = await run<{ type: string; state_key: string; event_id: string; sender: string; rejected_reason: null }>(
    QUERIES['queries/state-at-event'],
    { room_id: r.roomId, event_id: e.tail!.event_id },
  );
  const joinOf = (user: string) => r.events.find((event) => event.type === 'm.room.member' && event.state_key === user && event.depth < 9)!.event_id;
  expect(rows.map(({ type, state_key, event_id, sender, rejected_reason }) => [type, state_key, event_id, sender, rejected_reason])).toEqual([
    ['m.room.create', '', r.events[0]!.event_id, ALICE, null],
    ['m.room.join_rules', '', r.events[3]!.event_id, ALICE, null],
    ['m.room.member', ALICE, joinOf(ALICE), ALICE, null],
    ['m.room.member', BOB, e.ban!.event_id, CAROL, null],
    ['m.room.member', CAROL, joinOf(CAROL), CAROL, null],
    ['m.room.member', DAVE, r.events[7]!.event_id, DAVE, null],
    ['m.room.power_levels', '', r.events[2]!.event_id, ALICE, null],
    ['m.room.topic', '', e.m!.event_id, ALICE, null],
  ]);
  expect(await run(QUERIES['queries/state-at-event'], { room_id: r.roomId, event_id: e.d!.event_id })).toEqual([]);
  // event_id null: the room's newest event with a known state, neither rejected nor soft-failed: tail (d, as deep,
  // waits for the gap); room_id null: the event's own room, unchecked.
  expect(await run(QUERIES['queries/state-at-event'], { room_id: r.roomId, event_id: null })).toEqual(rows);
  expect(await run(QUERIES['queries/state-at-event'], { room_id: null, event_id: e.tail!.event_id })).toEqual(rows);
});

it('state-at-event: an event of another room is said to be there, not answered for', async () => {
  const other = irregular().newest.event_id;
  expect(await run(QUERIES['queries/state-at-event'], { room_id: r.roomId, event_id: other })).toEqual([{
    type: `event ${other} is in room ${irregularRoom.roomId}, not ${r.roomId} (set event_id to null for this room's newest event)`,
    state_key: null, event_id: null, sender: null, pdu: null, rejected_reason: null,
  }]);
  expect(await run(QUERIES['queries/state-at-event'], { room_id: '!unknown:hs1.test', event_id: null })).toEqual([]);
});

describe('path-between-events', () => {
  const path = (from: string | null, to: string | null, roomId: string | null = r.roomId) =>
    run<{ direction: string; hops: number; event_ids: string[] }>(QUERIES['queries/path-between-events'], {
      room_id: roomId,
      from_event: from === null ? null : e[from]?.event_id ?? from,
      to_event: to === null ? null : e[to]?.event_id ?? to,
    });
  const summary = (rows: { direction: string; hops: number; event_ids: string[] }[]) =>
    rows.map((row) => ({ direction: row.direction, hops: row.hops, events: row.event_ids.map(named) }));

  it('from a newer event down to an older one', async () => {
    expect(summary(await path('ban', 'm'))).toEqual([{ direction: 'from_event is newer', hops: 2, events: ['ban', 'after', 'm'] }]);
  });
  it('from an older event up to a newer one, listed from from_event', async () => {
    expect(summary(await path('m', 'ban'))).toEqual([{ direction: 'from_event is older', hops: 2, events: ['m', 'after', 'ban'] }]);
  });
  it('between two branches, through their common parent', async () => {
    expect(summary(await path('bobMessage', 'intruder'))).toEqual([
      { direction: 'neither descends from the other', hops: 2, events: ['bobMessage', 'after', 'intruder'] },
    ]);
  });
  it('no row when a gap cuts every way', async () => {
    expect(await path('d', 'a')).toEqual([]);
  });
  it("from the room's newest event when from_event is null, to the oldest event 5 prev_events back when to_event is", async () => {
    // tail -> ban|intruder -> after -> m -> b1|b2 -> a: a is the oldest within 5 hops.
    expect(summary(await path(null, 'm'))).toEqual([{ direction: 'from_event is newer', hops: 3, events: ['tail', expect.stringMatching(/^(ban|intruder)$/), 'after', 'm'] }]);
    const both = summary(await path(null, null));
    expect(both.map((row) => [row.direction, row.hops, row.events[0], row.events.at(-1)])).toEqual([['from_event is newer', 5, 'tail', 'a']]);
    expect(summary(await path('m', null))).toEqual([
      { direction: 'from_event is newer', hops: 5, events: ['m', expect.stringMatching(/^b[12]$/), 'a', 'topic1', r.events[7]!.event_id, r.events[6]!.event_id] },
    ]);
    // room_id null: the events' own room, unchecked.
    expect(summary(await path('ban', 'm', null))).toEqual([{ direction: 'from_event is newer', hops: 2, events: ['ban', 'after', 'm'] }]);
  });
  it('an event of another room: a row saying where it is, not a path', async () => {
    const other = irregular().newest.event_id;
    const said = (id: string) => ({
      direction: `event ${id} is in room ${irregularRoom.roomId}, not ${r.roomId} (set from_event and to_event to null for events of this room)`,
      hops: null, event_ids: null, path: null,
    });
    expect(await path(other, 'm')).toEqual([said(other)]);
    expect(await path(null, other)).toEqual([said(other)]);
  });
});

describe('get-missing-events: the same events in the same order as the endpoint walk', () => {
  async function compare(request: { room_id: string; latest_events: string[]; earliest_events: string[]; limit: number; min_depth: number }): Promise<string[]> {
    const version = getRoomVersion('10')!;
    const walked = (await new EventStore(graph).walk(request)).map((pdu) => computeEventId(JSON.parse(pdu) as Record<string, unknown>, version)!);
    const rows = await run<{ event_id: string }>(QUERIES['queries/get-missing-events'], {
      ...request,
      limit: neo4j.int(request.limit),
      min_depth: neo4j.int(request.min_depth),
    });
    expect(rows.map((row) => row.event_id)).toEqual(walked);
    return walked;
  }

  it('on the crafted room: rejected events walked through, not returned; earliest_events and min_depth', async () => {
    const base = { room_id: r.roomId, latest_events: [e.tail!.event_id], earliest_events: [] as string[], limit: 5, min_depth: 0 };
    // Levels: ban, intruder (1); after (2); m (3); b1, b2 (4); the limit cuts at 5 found, the rejected intruder counted.
    expect((await compare(base)).map(named)).toEqual(['b1', 'm', 'after', 'ban'].sort((x, y) => e[x]!.depth - e[y]!.depth || ts(x) - ts(y) || byId(x, y)));
    expect((await compare({ ...base, earliest_events: [e.m!.event_id], limit: 20 })).map(named)).toEqual(['after', 'ban']);
    expect((await compare({ ...base, min_depth: 13, limit: 20 })).map(named)).toEqual(['after', 'ban']);
    expect((await compare({ ...base, latest_events: [e.d!.event_id, e.bobMessage!.event_id], limit: 3 })).map(named)).toEqual(['m', 'after', 'c']);
    expect(await compare({ ...base, latest_events: [e.tail!.event_id], earliest_events: [e.tail!.event_id] })).toEqual([]);
    // A room with no such event: the endpoint finds nothing; the query says where the event is instead.
    expect(await new EventStore(graph).walk({ ...base, room_id: '!unknown:hs1.test' })).toEqual([]);
    expect(await run(QUERIES['queries/get-missing-events'], { ...base, room_id: '!unknown:hs1.test', limit: neo4j.int(5), min_depth: neo4j.int(0) })).toEqual([{
      event_id: `event ${e.tail!.event_id} is in room ${r.roomId}, not !unknown:hs1.test (set latest_events to null for this room's newest event)`,
      depth: null, origin_server_ts: null, type: null, sender: null, level: null,
    }]);
  });

  const ts = (name: string) => e[name]!.pdu.origin_server_ts as number;

  it.each([
    ['10', 'analyst-queries/gme-10'],
    ['12', 'analyst-queries/gme-12'],
  ])('on a generated room of version %s with forks, merges and state conflicts, for many parameter sets', async (roomVersion, seed) => {
    const options: GenerateOptions = { events: 400, roomVersion, seed, servers: 3, conflicts: true };
    const builder = roomBuilderFor(options);
    const events = [...generateRoom(options, builder)];
    const { problems } = await importLines(graph, events);
    expect(problems).toEqual([]);
    const version = getRoomVersion(roomVersion)!;
    const compareIds = async (request: { latest_events: string[]; earliest_events: string[]; limit: number; min_depth: number }) => {
      const full = { room_id: builder.roomId, ...request };
      const walked = (await new EventStore(graph).walk(full)).map((pdu) => computeEventId(JSON.parse(pdu) as Record<string, unknown>, version)!);
      const rows = await run<{ event_id: string }>(QUERIES['queries/get-missing-events'], {
        ...full, limit: neo4j.int(full.limit), min_depth: neo4j.int(full.min_depth),
      });
      expect(rows.map((row) => row.event_id)).toEqual(walked);
      return walked.length;
    };
    const at = (i: number) => events[i]!.event_id;
    let returned = 0;
    for (const [latest, earliest, limit, minDepth] of [
      [[events.length - 1], [], 20, 0],
      [[events.length - 1], [], 100, 0],
      [[events.length - 1, 350], [], 50, 0],
      [[events.length - 1], [390, 380, 370], 30, 0],
      [[300], [], 40, 280],
      [[399, 250], [240, 230], 25, 200],
      [[150], [], 1, 0],
      [[120, 119, 118], [100], 200, 90],
    ] as [number[], number[], number, number][]) {
      returned += await compareIds({ latest_events: latest.map(at), earliest_events: earliest.map(at), limit, min_depth: events[minDepth]?.depth ?? 0 });
    }
    // The parameter sets return events at all (a query returning nothing would agree with an empty walk).
    expect(returned).toBeGreaterThan(200);
  });
});

describe('a generated room with irregular events (the demo room, generate --conflicts), explored with room_id alone', () => {
  const IRREGULAR = () => ({ room_id: irregularRoom.roomId });
  const idOf = (key: string) => (irregular()[key as keyof IrregularEvents] as { event_id: string }).event_id;
  // Cypher orders strings by code point, as < does (localeCompare would not).
  const codePointOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const name = (id: string) => Object.entries(irregular()).find(([, event]) => (event as { event_id?: string }).event_id === id)?.[0] ?? id;

  it("rejected-events: the intruder's topic rejected, the spammer's message soft-failed, the event on the missing one pending", async () => {
    const rows = await run<{ event_id: string; type: string; sender: string; depth: number; status: string; reason: string }>(QUERIES['queries/rejected-events'], IRREGULAR());
    const x = irregular();
    expect(rows.map((row) => [name(row.event_id), row.type, row.sender, row.depth, row.status])).toEqual([
      ['softFailed', 'm.room.message', '@spammer:hs3.test', x.spammerJoin.depth + 1, 'soft-failed'],
      ['rejected', 'm.room.topic', '@intruder:hs3.test', x.spammerJoin.depth + 2, 'rejected'],
      ['waiting', 'm.room.message', '@alice:hs1.test', x.spammerJoin.depth + 2, 'state pending'],
    ].sort((a, b) => (a[3] as number) - (b[3] as number) || codePointOrder(idOf(a[0] as string), idOf(b[0] as string))));
    const reasons = Object.fromEntries(rows.map((row) => [name(row.event_id), row.reason]));
    expect(reasons.rejected).toMatch(/^fails the authorization rules on its auth_events: /);
    expect(reasons.softFailed).toMatch(/^fails the authorization rules on the room's current state: /);
    expect(reasons.waiting).toBe('a prev event or auth event has no known state yet');
  });

  it('missing-events: the event left out of the file, named by the one after it', async () => {
    expect(await run(QUERIES['queries/missing-events'], IRREGULAR())).toEqual([{ event_id: irregular().missing.event_id, named_by: [irregular().waiting.event_id] }]);
  });

  it('forward-extremities: the newest event, and the three tips that do not count', async () => {
    const rows = await run<{ event_id: string; status: string }>(QUERIES['queries/forward-extremities'], IRREGULAR());
    expect(rows.map((row) => [name(row.event_id), row.status]).sort()).toEqual([
      ['newest', 'forward extremity'], ['rejected', 'rejected'], ['softFailed', 'soft-failed'], ['waiting', 'state pending'],
    ]);
  });

  it('state-key-timeline with state_key null: the key of the newest m.room.member, the spammer: joined, then banned', async () => {
    const rows = await run<{ event_id: string; status: string; current: boolean }>(QUERIES['queries/state-key-timeline'], { ...IRREGULAR(), type: 'm.room.member', state_key: null });
    expect(rows.map((row) => [name(row.event_id), row.status, row.current])).toEqual([['spammerJoin', 'accepted', false], ['ban', 'accepted', true]]);
  });

  it("get-missing-events with latest_events null: from the room's newest event, as the endpoint walks", async () => {
    const request = { room_id: irregularRoom.roomId, latest_events: [irregular().newest.event_id], earliest_events: [] as string[], limit: 5, min_depth: 0 };
    const walked = (await new EventStore(graph).walk(request)).map((pdu) => computeEventId(JSON.parse(pdu) as Record<string, unknown>, getRoomVersion('10')!)!);
    const rows = await run<{ event_id: string }>(QUERIES['queries/get-missing-events'], { ...request, latest_events: null, limit: neo4j.int(5), min_depth: neo4j.int(0) });
    expect(rows.map((row) => row.event_id)).toEqual(walked);
    expect(walked.slice(-3).map(name)).toEqual(['spammerJoin', 'ban', 'after']);
  });

  it('get-missing-events: a latest event of another room is said to be there, not walked from', async () => {
    const rows = await run(QUERIES['queries/get-missing-events'], {
      room_id: irregularRoom.roomId, latest_events: [e.tail!.event_id, irregular().newest.event_id], earliest_events: [], limit: neo4j.int(5), min_depth: neo4j.int(0),
    });
    expect(rows).toEqual([{
      event_id: `event ${e.tail!.event_id} is in room ${r.roomId}, not ${irregularRoom.roomId} (set latest_events to null for this room's newest event)`,
      depth: null, origin_server_ts: null, type: null, sender: null, level: null,
    }]);
  });
});
