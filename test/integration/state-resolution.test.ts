/**
 * State resolution through the importer on the real Neo4j: rooms whose branches disagree (a ban racing a join, two
 * topics, two power level changes), the state at the merge, the room's current state and soft failure, in room
 * versions 10 (state resolution v2) and 12 (v2.1), and in any import order.
 */
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { loadCypher } from '../../src/store/cypher-files';
import { EventStore } from '../../src/store/event-store';
import type { Graph } from '../../src/store/neo4j';
import { currentStateMap, deleteRoomGraph, queryGraph, shuffled, stateBeforeMap } from '../helpers/room-graph';
import { importLines, openTestGraph } from '../helpers/graph';

const QUERIES = loadCypher(['queries/rejected-events']);
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

/** The room's current state, `type|state_key -> event_id`. */
function currentState(roomId: string): Promise<Record<string, string>> {
  return currentStateMap(graph, roomId);
}

function deleteRoom(roomId: string): Promise<void> {
  return deleteRoomGraph(graph, roomId);
}

/** Imports the room's events in order, reversed and shuffled; runs `check` after each (on a fresh graph). */
async function inEveryOrder(r: RoomBuilder, check: () => Promise<void>): Promise<void> {
  for (const order of [r.events, [...r.events].reverse(), shuffled(r.events, r.roomId)]) {
    await deleteRoom(r.roomId);
    const { problems } = await importLines(graph, order);
    expect(problems).toEqual([]);
    await check();
  }
}

/** create, alice joins, power levels (alice 100, carol 50 unless v12 creator rules say otherwise), public join rules, carol joins. */
function room(seed: string, version: string, users: Record<string, number> = {}): RoomBuilder {
  const r = new RoomBuilder(version, `state-resolution/${seed}`);
  r.create(ALICE);
  r.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  const levels = { ...(version === '12' ? {} : { [ALICE]: 100 }), [CAROL]: 50, ...users };
  r.add({
    type: 'm.room.power_levels', state_key: '', sender: ALICE,
    content: { users: levels, users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0, events: {} },
  });
  r.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  r.add({ type: 'm.room.member', state_key: CAROL, sender: CAROL, content: { membership: 'join' } });
  return r;
}

const message = (r: RoomBuilder, body: string, sender: string, prev: readonly BuiltEvent[]) =>
  r.add({ type: 'm.room.message', sender, content: { msgtype: 'm.text', body }, prev });

describe.each(['10', '12'])('room version %s', (version) => {
  it('a ban racing a join: the ban wins at the merge and in the current state', async () => {
    const r = room(`ban-join/${version}`, version);
    const fork = r.forwardExtremities();
    const join = r.add({ type: 'm.room.member', state_key: BOB, sender: BOB, content: { membership: 'join' }, prev: fork });
    const ban = r.add({ type: 'm.room.member', state_key: BOB, sender: CAROL, content: { membership: 'ban' }, prev: fork });
    const merge = message(r, 'merge', ALICE, [join, ban]);
    await inEveryOrder(r, async () => {
      expect((await stateBefore(merge.event_id))[`m.room.member|${BOB}`]).toBe(ban.event_id);
      expect((await currentState(r.roomId))[`m.room.member|${BOB}`]).toBe(ban.event_id);
    });
  });

  it('a topic race: the later topic (origin_server_ts) wins, whatever the import order', async () => {
    const r = room(`topic/${version}`, version);
    const fork = r.forwardExtremities();
    const ts = 1_800_000_000_000;
    const early = r.add({ type: 'm.room.topic', state_key: '', sender: ALICE, content: { topic: 'early' }, prev: fork }, ts);
    const late = r.add({ type: 'm.room.topic', state_key: '', sender: CAROL, content: { topic: 'late' }, prev: fork }, ts + 1000);
    const merge = message(r, 'merge', ALICE, [early, late]);
    await inEveryOrder(r, async () => {
      expect((await stateBefore(merge.event_id))['m.room.topic|']).toBe(late.event_id);
    });
  });

  it('two power level changes at once: the admin who demotes the other wins, and the other’s change is dropped', async () => {
    // Bob below alice (a user may not lower the level of one at or above their own; in v12 alice, the creator, is
    // above everyone).
    const r = room(`power-levels/${version}`, version, { [BOB]: 90 });
    r.add({ type: 'm.room.member', state_key: BOB, sender: BOB, content: { membership: 'join' } });
    const fork = r.forwardExtremities();
    const base = { users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 0, events: {} };
    const admin = version === '12' ? {} : { [ALICE]: 100 };
    const demote = r.add({ type: 'm.room.power_levels', state_key: '', sender: ALICE, content: { ...base, users: { ...admin, [CAROL]: 50, [BOB]: 0 } }, prev: fork });
    const promote = r.add({ type: 'm.room.power_levels', state_key: '', sender: BOB, content: { ...base, users: { ...admin, [CAROL]: 90, [BOB]: 90 } }, prev: fork });
    const merge = message(r, 'merge', ALICE, [demote, promote]);
    await inEveryOrder(r, async () => {
      expect((await stateBefore(merge.event_id))['m.room.power_levels|']).toBe(demote.event_id);
      expect((await currentState(r.roomId))['m.room.power_levels|']).toBe(demote.event_id);
    });
  });

  it('a message from a user banned on another branch is soft-failed: not an extremity, still in the DAG and answers', async () => {
    const r = room(`soft-fail/${version}`, version);
    r.add({ type: 'm.room.member', state_key: BOB, sender: BOB, content: { membership: 'join' } });
    const fork = r.forwardExtremities();
    // Bob's branch is made first, so the builder gives his message his join as auth event, as his server would.
    const bobMessage = message(r, 'bob, not yet aware of the ban', BOB, fork);
    const ban = r.add({ type: 'm.room.member', state_key: BOB, sender: CAROL, content: { membership: 'ban' }, prev: fork });
    await inEveryOrder(r, async () => {
      const marked = await query<{ event_id: string; status: string; reason: string }>(QUERIES['queries/rejected-events'], { room_id: r.roomId });
      expect(marked.map((row) => [row.event_id, row.status])).toEqual([[bobMessage.event_id, 'soft-failed']]);
      expect(marked[0]!.reason).toMatch(/^fails the authorization rules on the room's current state: /);
      expect((await currentState(r.roomId))[`m.room.member|${BOB}`]).toBe(ban.event_id);
      const extremities = await query<{ event_id: string }>(
        `MATCH (e:Event {room_id: $room_id}) WHERE NOT e:SoftFailed AND NOT e:Rejected
           AND NOT EXISTS { MATCH (c:Event)-[:PREV_EVENT]->(e) WHERE NOT c:SoftFailed AND NOT c:Rejected }
         RETURN e.event_id AS event_id`,
        { room_id: r.roomId },
      );
      expect(extremities.map((row) => row.event_id)).toEqual([ban.event_id]);
    });
    // A soft-failed event is not rejected: a walk from an event that names it returns it.
    const later = message(r, 'after', ALICE, [ban, bobMessage]);
    await importLines(graph, [later]);
    const answer = await new EventStore(graph).walk({
      room_id: r.roomId, latest_events: [later.event_id], earliest_events: [], min_depth: 0, limit: 2,
    });
    expect(answer).toEqual([JSON.stringify(bobMessage.pdu), JSON.stringify(ban.pdu)]);
  });
});
