/**
 * The state before and after every event, rejected and pending events, and the current state, as the importer
 * stores them in the real Neo4j: the same whatever order the events come in, a gap filled by a later import, and
 * lookups that read one small node per event.
 */
import { generateRoom, roomBuilderFor, type GenerateOptions } from '../../src/generator/generate-room';
import { SCENARIO_NAMES, type ConflictOutcome } from '../../src/generator/conflict-scenarios';
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { loadCypher } from '../../src/store/cypher-files';
import { EventStore } from '../../src/store/event-store';
import type { Graph } from '../../src/store/neo4j';
import { StateStore } from '../../src/store/state-store';
import { currentStateMap, deleteRoomGraph, queryGraph, shuffled, stateBeforeMap } from '../helpers/room-graph';
import { importLines, openTestGraph } from '../helpers/graph';

const QUERIES = loadCypher(['queries/rejected-events', 'queries/forward-extremities']);
const ALICE = '@alice:hs1.test';
const BOB = '@bob:hs2.test';
const CAROL = '@carol:hs3.test';

let graph: Graph;

beforeAll(async () => {
  graph = await openTestGraph();
});

afterAll(async () => {
  await graph.driver.close();
});

function query<T>(cypher: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return queryGraph<T>(graph, cypher, params);
}

/** The state before an event as `type|state_key -> event_id`. */
function stateBefore(eventId: string): Promise<Record<string, string>> {
  return stateBeforeMap(graph, eventId);
}

/** Per event: its state before (entries `type|state_key=event_id`, sorted), whether rejected, its state after's ID. */
async function statesOf(roomId: string): Promise<Record<string, { before: string[]; rejected: string | null; after: string | null }>> {
  const events = await query<{ event_id: string; before: string[]; rejected: string | null; after: string | null }>(
    `MATCH (e:Event {room_id: $room_id}) WHERE NOT e:Placeholder
     OPTIONAL MATCH (top:State {state_id: e.state_before})
     CALL (top) {
       MATCH path = (top)-[:DELTA_OF*0..100]->(layer:State)
       WITH layer, length(path) AS hops
       UNWIND range(0, size(layer.types) - 1) AS i
       WITH layer.types[i] AS type, layer.state_keys[i] AS state_key, layer.event_ids[i] AS event_id, hops ORDER BY hops
       WITH type, state_key, head(collect(event_id)) AS event_id WHERE event_id <> ''
       RETURN collect(type + '|' + state_key + '=' + event_id) AS before
     }
     RETURN e.event_id AS event_id, before, e.rejected_reason AS rejected, e.state_after AS after ORDER BY event_id`,
    { room_id: roomId },
  );
  return Object.fromEntries(events.map(({ event_id, before, rejected, after }) => [event_id, { before: [...before].sort(), rejected, after }]));
}

function currentState(roomId: string): Promise<Record<string, string>> {
  return currentStateMap(graph, roomId);
}

function deleteRoom(roomId: string): Promise<void> {
  return deleteRoomGraph(graph, roomId);
}

function generated(options: GenerateOptions): { builder: RoomBuilder; events: BuiltEvent[] } {
  const builder = roomBuilderFor(options);
  return { builder, events: [...generateRoom(options, builder)] };
}

/** create, alice joins, power levels (alice 100), public join rules. */
function publicRoom(seed: string, version = '10'): RoomBuilder {
  const r = new RoomBuilder(version, `room-state/${seed}`);
  r.create(ALICE);
  r.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  r.add({
    type: 'm.room.power_levels', state_key: '', sender: ALICE,
    content: { users: version === '12' ? {} : { [ALICE]: 100 }, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0 },
  });
  r.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  return r;
}

describe.each(['1', '2', '10', '11', '12'])('room version %s: the state at every event', (roomVersion) => {
  it('is the same imported in order, reversed, shuffled, and in batches of 7', async () => {
    const { builder, events } = generated({ events: 80, roomVersion, seed: `room-state/orders/v${roomVersion}` });
    const lines = events.map((event) => JSON.stringify(event.pdu));
    const orders: [string, string[], number | undefined][] = [
      ['in order', lines, undefined],
      ['reversed', [...lines].reverse(), undefined],
      ['shuffled', shuffled(lines, `v${roomVersion}`), undefined],
      ['batches of 7, shuffled', shuffled(lines, `b${roomVersion}`), 7],
    ];
    let reference: Awaited<ReturnType<typeof statesOf>> | undefined;
    let referenceCurrent: Record<string, string> | undefined;
    for (const [name, order, batchSize] of orders) {
      await deleteRoom(builder.roomId);
      const { problems } = await importLines(graph, order, name, batchSize);
      expect(problems).toEqual([]);
      const states = await statesOf(builder.roomId);
      const current = await currentState(builder.roomId);
      if (reference === undefined) {
        reference = states;
        referenceCurrent = current;
        // Every event has a state and none is rejected: the generator makes valid rooms.
        expect(Object.values(states).filter((s) => s.after === null || s.rejected !== null)).toEqual([]);
        // The last event's state before holds the generator's own view of the room's state keys.
        expect(Object.keys(current).length).toBeGreaterThan(4);
      } else {
        expect({ name, states }).toEqual({ name, states: reference });
        expect({ name, current }).toEqual({ name, current: referenceCurrent });
      }
    }
  });
});

describe.each(['1', '10', '12'])('room version %s with conflicts (generate --conflicts)', (roomVersion) => {
  it('imported shuffled, each merge has the state the spec resolution gives, and nothing is rejected', async () => {
    const options: GenerateOptions = { events: 700, roomVersion, seed: `room-state/conflicts/v${roomVersion}`, conflicts: true };
    const builder = roomBuilderFor(options);
    const outcomes: ConflictOutcome[] = [];
    const events = [...generateRoom(options, builder, (outcome) => outcomes.push(outcome))];
    expect(outcomes.map((outcome) => outcome.scenario)).toEqual([...SCENARIO_NAMES]);
    await deleteRoom(builder.roomId);
    const { problems, summary } = await importLines(graph, shuffled(events.map((event) => JSON.stringify(event.pdu)), `c${roomVersion}`), 'conflicts', 50);
    expect([problems, summary.rejected, summary.softFailed, summary.statePending]).toEqual([[], 0, 0, 0]);
    for (const outcome of outcomes) {
      const state = await stateBefore(outcome.merge.event_id);
      const got = outcome.expected.map(({ type, state_key }) => ({ type, state_key, event_id: state[`${type}|${state_key}`] }));
      expect({ scenario: outcome.scenario, state: got }).toEqual({ scenario: outcome.scenario, state: outcome.expected });
    }
  });
});

describe('the forward extremities, kept as the label Extremity', () => {
  /** The labelled events, and the forward extremities the full rule finds (the analyst query visits every event). */
  async function extremities(roomId: string): Promise<{ labelled: string[]; rule: string[] }> {
    const labelled = await query<{ id: string }>('MATCH (e:Extremity {room_id: $room_id}) RETURN e.event_id AS id ORDER BY id', { room_id: roomId });
    const tips = await query<{ event_id: string; status: string }>(QUERIES['queries/forward-extremities'], { room_id: roomId });
    return {
      labelled: labelled.map((row) => row.id),
      rule: tips.filter((row) => row.status === 'forward extremity').map((row) => row.event_id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    };
  }

  it('are what the full rule finds after a later import added forks, a rejected, a soft-failed and pending events shuffled in batches of 7, and labelling from scratch agrees', async () => {
    const { builder, events } = generated({ events: 400, roomVersion: '10', seed: 'room-state/extremities', conflicts: true, irregular: true });
    await deleteRoom(builder.roomId);
    const first = await importLines(graph, events.slice(0, 150), 'first');
    expect(first.problems).toEqual([]);
    const settledOnce = await extremities(builder.roomId);
    expect(settledOnce.labelled).toEqual(settledOnce.rule);
    // The room is labelled now: what follows keeps the labels in step, event by event.
    const rest = await importLines(graph, shuffled(events.slice(150).map((event) => JSON.stringify(event.pdu)), 'extremities'), 'rest', 7);
    expect([rest.problems, rest.summary.rejected, rest.summary.softFailed, rest.summary.statePending]).toEqual([[], 1, 1, 1]);
    const kept = await extremities(builder.roomId);
    expect(kept.labelled).toEqual(kept.rule);
    expect(kept.labelled.length).toBeGreaterThan(0);
    expect(kept.labelled).not.toEqual(settledOnce.labelled);
    // Labelled from scratch (the room's first settle does it): the same events.
    await query('MATCH (room:Room {room_id: $room_id}) REMOVE room.extremities_labelled WITH room MATCH (e:Extremity {room_id: $room_id}) REMOVE e:Extremity', { room_id: builder.roomId });
    await importLines(graph, [events[0]!], 'again');
    expect((await extremities(builder.roomId)).labelled).toEqual(kept.labelled);
  });
});

describe('rejected events', () => {
  it('a message from a server with no member and a join to an invite-only room are rejected with their reasons, walked through, never returned', async () => {
    const r = publicRoom('rejected');
    const inviteOnly = r.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'invite' } });
    const intruder = r.add({ type: 'm.room.message', sender: BOB, content: { body: 'not a member' } });
    const join = r.add({ type: 'm.room.member', state_key: CAROL, sender: CAROL, content: { membership: 'join' } });
    const after = r.add({ type: 'm.room.message', sender: ALICE, content: { body: 'after' } });
    const { problems } = await importLines(graph, r.events);
    expect(problems).toEqual([]);
    const rejected = await query<{ event_id: string; status: string; reason: string }>(QUERIES['queries/rejected-events'], { room_id: r.roomId });
    expect(rejected.map((row) => [row.event_id, row.status])).toEqual([
      [intruder.event_id, 'rejected'],
      [join.event_id, 'rejected'],
    ]);
    expect(rejected.every((row) => row.reason.startsWith('fails the authorization rules on its auth_events'))).toBe(true);
    // Neither enters the state: the state before `after` has alice only, and the invite join rule.
    const before = await stateBefore(after.event_id);
    expect(before[`m.room.member|${CAROL}`]).toBeUndefined();
    expect(before['m.room.join_rules|']).toBe(inviteOnly.event_id);
    // The walk goes through the rejected events to what lies beyond them, without returning them.
    const walked = await new EventStore(graph).walk({
      room_id: r.roomId, latest_events: [after.event_id], earliest_events: [], min_depth: 0, limit: 20,
    });
    expect(walked.map((pdu) => JSON.parse(pdu).type)).toEqual([
      'm.room.create', 'm.room.member', 'm.room.power_levels', 'm.room.join_rules', 'm.room.join_rules',
    ]);
  });
});

describe('a gap filled by a later import', () => {
  it('leaves the events after it pending (state unknown), then computes them as a full import would', async () => {
    const { builder, events } = generated({ events: 40, roomVersion: '10', seed: 'room-state/gap' });
    const missing = events[12]!;
    await importLines(graph, events);
    const full = await statesOf(builder.roomId);
    const fullCurrent = await currentState(builder.roomId);
    await deleteRoom(builder.roomId);

    await importLines(graph, events.filter((event) => event !== missing), 'without');
    const pending = await query<{ event_id: string; status: string }>(QUERIES['queries/rejected-events'], { room_id: builder.roomId });
    const later = events.slice(13).map((event) => event.event_id).sort();
    expect(pending.map((row) => row.status)).toEqual(later.map(() => 'state pending'));
    expect(pending.map((row) => row.event_id).sort()).toEqual(later);
    const summaries = await new StateStore(graph).summaries([events[11]!.event_id, events[20]!.event_id], 'hs1.test');
    expect(summaries.map((row) => [row.event_id, row.state_known])).toEqual([
      [events[11]!.event_id, true],
      [events[20]!.event_id, false],
    ]);

    await importLines(graph, [missing], 'the gap');
    expect(await query(QUERIES['queries/rejected-events'], { room_id: builder.roomId })).toEqual([]);
    expect(await statesOf(builder.roomId)).toEqual(full);
    expect(await currentState(builder.roomId)).toEqual(fullCurrent);
  });
});

describe('the state summaries', () => {
  it('say, per event, the history visibility, join rule and whether a server has a joined or invited member', async () => {
    const r = publicRoom('summaries');
    const bobJoin = r.add({ type: 'm.room.member', state_key: BOB, sender: BOB, content: { membership: 'join' } });
    const invite = r.add({ type: 'm.room.member', state_key: CAROL, sender: ALICE, content: { membership: 'invite' } });
    const visibility = r.add({ type: 'm.room.history_visibility', state_key: '', sender: ALICE, content: { history_visibility: 'joined' } });
    const bobLeave = r.add({ type: 'm.room.member', state_key: BOB, sender: BOB, content: { membership: 'leave' } });
    await importLines(graph, r.events);
    const store = new StateStore(graph);
    const ids = [bobJoin, invite, visibility, bobLeave].map((event) => event.event_id);
    const row = (server: string) => store.summaries(ids, server).then((rows) => rows.map((s) => [s.history_visibility, s.join_rule, s.server_joined, s.server_invited]));
    expect(await row('hs2.test')).toEqual([
      [null, 'public', true, false],
      [null, 'public', true, false],
      ['joined', 'public', true, false],
      ['joined', 'public', false, false],
    ]);
    expect(await row('hs3.test')).toEqual([
      [null, 'public', false, false],
      [null, 'public', false, true],
      ['joined', 'public', false, true],
      ['joined', 'public', false, true],
    ]);
  });
});
