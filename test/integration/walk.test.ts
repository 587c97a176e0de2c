/**
 * The get_missing_events walk (cypher/walk.cypher) against the real Neo4j, on DAGs built event by event.
 * Each test builds its own room.
 */
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { EventStore, type WalkRequest } from '../../src/store/event-store';
import { readTx, rows, type Graph } from '../../src/store/neo4j';
import { importLines, openTestGraph } from '../helpers/graph';

let graph: Graph;
let store: EventStore;

beforeAll(async () => {
  graph = await openTestGraph();
  store = new EventStore(graph);
});

afterAll(async () => {
  await graph.driver.close();
});

const ALICE = '@alice:hs1.test';
const BOB = '@bob:hs2.test';

/** A room with create and alice's join, nothing else: bob is not in it, so what he sends is rejected. */
function room(seed: string, version = '10'): RoomBuilder {
  const builder = new RoomBuilder(version, `walk/${seed}`);
  builder.create(ALICE);
  builder.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  return builder;
}

function message(builder: RoomBuilder, body: string, prev?: readonly BuiltEvent[], sender = ALICE): BuiltEvent {
  return builder.add({ type: 'm.room.message', sender, content: { msgtype: 'm.text', body }, ...(prev ? { prev } : {}) });
}

async function walk(builder: RoomBuilder, request: Partial<WalkRequest> & { latest_events: string[] }): Promise<string[]> {
  const pdus = await store.walk({ room_id: builder.roomId, earliest_events: [], min_depth: 0, limit: 10, ...request });
  return pdus.map((pdu) => idOf(builder, pdu));
}

/** Names returned events by their body (messages) or type, so expectations read like the DAG. */
function idOf(builder: RoomBuilder, pdu: string): string {
  const event = builder.events.find((e) => JSON.stringify(e.pdu) === pdu);
  if (event === undefined) throw new Error(`walk returned an event that is not in this room: ${pdu.slice(0, 80)}`);
  const body = (event.pdu.content as { body?: string }).body;
  return body ?? event.type;
}

async function store_(builder: RoomBuilder, events: readonly BuiltEvent[] = builder.events): Promise<void> {
  const { problems } = await importLines(graph, events);
  expect(problems).toEqual([]);
}

describe('the walk', () => {
  it('walks a linear chain back from the prev_events of latest_events, oldest first, never returning latest', async () => {
    const r = room('chain');
    const chain = Array.from({ length: 8 }, (_, i) => message(r, `m${i + 1}`));
    await store_(r);
    expect(await walk(r, { latest_events: [chain[7]!.event_id], limit: 5 })).toEqual(['m3', 'm4', 'm5', 'm6', 'm7']);
    expect(await walk(r, { latest_events: [chain[2]!.event_id] })).toEqual([
      'm.room.create',
      'm.room.member',
      'm1',
      'm2',
    ]);
  });

  it('follows forks and returns each event of a merge once', async () => {
    const r = room('fork');
    const a = message(r, 'a');
    const b1 = message(r, 'b1', [a], ALICE);
    const b2 = message(r, 'b2', [a]);
    const c = message(r, 'c', [b1, b2]);
    const d = message(r, 'd', [c]);
    await store_(r);
    expect(await walk(r, { latest_events: [d.event_id], limit: 4 })).toEqual(['a', 'b1', 'b2', 'c']);
    // latest_events that are ancestors of each other: neither is returned, both are walked from.
    expect(await walk(r, { latest_events: [d.event_id, c.event_id], limit: 3 })).toEqual(['a', 'b1', 'b2']);
  });

  it('stops at earliest_events on one branch and walks on through the other', async () => {
    const r = room('earliest');
    const a = message(r, 'a');
    const b1 = message(r, 'b1', [a]);
    const b2 = message(r, 'b2', [a]);
    const c = message(r, 'c', [b1, b2]);
    await store_(r);
    expect(await walk(r, { latest_events: [c.event_id], earliest_events: [b1.event_id], limit: 3 })).toEqual(['m.room.member', 'a', 'b2']);
    expect(await walk(r, { latest_events: [c.event_id], earliest_events: [b1.event_id, b2.event_id] })).toEqual([]);
  });

  it('neither returns nor walks past events below min_depth', async () => {
    const r = room('min-depth');
    const chain = Array.from({ length: 5 }, (_, i) => message(r, `m${i + 1}`)); // depths 3..7
    await store_(r);
    expect(chain.map((e) => e.depth)).toEqual([3, 4, 5, 6, 7]);
    expect(await walk(r, { latest_events: [chain[4]!.event_id], min_depth: 4 })).toEqual(['m2', 'm3', 'm4']);
    // A latest event below min_depth is not walked from.
    expect(await walk(r, { latest_events: [chain[1]!.event_id], min_depth: 5 })).toEqual([]);
  });

  it('breaks ties at the last level by greater depth, then the smaller event_id', async () => {
    const r = room('ties');
    const a = message(r, 'a');
    const deep = message(r, 'deep', [message(r, 'deep-parent', [a])]);
    const shallow1 = message(r, 'shallow1', [a]);
    const shallow2 = message(r, 'shallow2', [a]);
    const tip = message(r, 'tip', [shallow2, deep, shallow1]);
    await store_(r);
    expect([deep.depth, shallow1.depth, shallow2.depth]).toEqual([5, 4, 4]);
    expect(await walk(r, { latest_events: [tip.event_id], limit: 1 })).toEqual(['deep']);
    const [first] = [shallow1, shallow2].sort((x, y) => (x.event_id < y.event_id ? -1 : 1));
    const firstName = first === shallow1 ? 'shallow1' : 'shallow2';
    expect(await walk(r, { latest_events: [tip.event_id], limit: 2 })).toEqual([firstName, 'deep']);
    // The first level fits whole; the second (a at depth 3, deep-parent at depth 4) has room for one: the deeper.
    expect(await walk(r, { latest_events: [tip.event_id], limit: 4 })).toEqual(['deep-parent', 'shallow1', 'shallow2', 'deep']);
    expect(await walk(r, { latest_events: [tip.event_id], limit: 5 })).toEqual(['a', 'deep-parent', 'shallow1', 'shallow2', 'deep']);
  });

  it('returns each event of a wide level once, however many latest events name it, and never a latest event (issue 19, item 8)', async () => {
    const r = room('wide-level');
    const base = message(r, 'base');
    const level = Array.from({ length: 30 }, (_, i) => message(r, `w${i}`, [base]));
    // Each level event is named by two tips; tip6 names tip0 (a latest event, so never returned) and w0 again.
    const tips = Array.from({ length: 6 }, (_, i) => message(r, `tip${i}`, Array.from({ length: 10 }, (_, k) => level[(5 * i + k) % 30]!)));
    tips.push(message(r, 'tip6', [tips[0]!, level[0]!]));
    await store_(r);
    const byId = (x: BuiltEvent, y: BuiltEvent) => (x.event_id < y.event_id ? -1 : 1);
    const byAge = (x: BuiltEvent, y: BuiltEvent) => x.depth - y.depth || Number(x.pdu.origin_server_ts) - Number(y.pdu.origin_server_ts) || byId(x, y);
    const name = (event: BuiltEvent) => (event.pdu.content as { body: string }).body;
    const latest = tips.map((tip) => tip.event_id);
    // The level is 30 wide and holds no tip: the 20 smallest event IDs of it at limit 20 (one depth), all 30 at 30.
    expect(await walk(r, { latest_events: latest, limit: 20 })).toEqual([...level].sort(byId).slice(0, 20).sort(byAge).map(name));
    expect(await walk(r, { latest_events: latest, limit: 30 })).toEqual([...level].sort(byAge).map(name));
    expect(await walk(r, { latest_events: latest, limit: 31 })).toEqual(['base', ...[...level].sort(byAge).map(name)]);
  });

  it('treats duplicates in the request as one', async () => {
    const r = room('duplicates');
    const a = message(r, 'a');
    const b = message(r, 'b');
    await store_(r);
    expect(
      await walk(r, { latest_events: [b.event_id, b.event_id], earliest_events: [a.event_id, a.event_id] }),
    ).toEqual([]);
    expect(await walk(r, { latest_events: [b.event_id, b.event_id], limit: 2 })).toEqual(['m.room.member', 'a']);
  });

  it("ignores unknown IDs and other rooms' IDs, and never returns or walks into another room", async () => {
    const mine = room('mine');
    const other = room('other');
    const theirs = message(other, 'theirs');
    await store_(other);
    const a = message(mine, 'a');
    // An event of this room that names another room's event as a prev: that edge is never followed.
    const crossing = message(mine, 'crossing', [a, theirs]);
    const tip = message(mine, 'tip', [crossing]);
    await store_(mine);
    expect(await walk(mine, { latest_events: [theirs.event_id] })).toEqual([]);
    expect(await walk(mine, { latest_events: ['$unknown-event-id'] })).toEqual([]);
    expect(await walk(mine, { latest_events: [tip.event_id, theirs.event_id, '$unknown'], limit: 3 })).toEqual([
      'm.room.member',
      'a',
      'crossing',
    ]);
    expect(await walk(other, { latest_events: [tip.event_id] })).toEqual([]);
  });

  it('never returns or walks past a placeholder, and walks through it once the event is imported', async () => {
    const r = room('placeholder');
    message(r, 'a');
    const gap = message(r, 'gap');
    message(r, 'b');
    const c = message(r, 'c');
    await store_(r, r.events.filter((e) => e !== gap));
    expect(await walk(r, { latest_events: [c.event_id] })).toEqual(['b']);
    await store_(r, [gap]);
    expect(await walk(r, { latest_events: [c.event_id], limit: 3 })).toEqual(['a', 'gap', 'b']);
  });

  it('walks through a rejected event without returning it (bob sends without being in the room)', async () => {
    const r = room('rejected');
    const a = message(r, 'a');
    const rejected = message(r, 'from bob', [a], BOB);
    const b = message(r, 'b', [rejected]);
    const c = message(r, 'c', [b]);
    await store_(r);
    const marked = await readTx(graph, (tx) =>
      rows<{ reason: string }>(tx, 'MATCH (e:Rejected {event_id: $id}) RETURN e.rejected_reason AS reason', { id: rejected.event_id }),
    );
    expect(marked.map((row) => row.reason)).toEqual([expect.stringContaining(BOB)]);
    // The rejected event counts towards the limit, then is left out of the answer, as Synapse does: b, bob's, a.
    expect(await walk(r, { latest_events: [c.event_id], limit: 3 })).toEqual(['a', 'b']);
    expect(await walk(r, { latest_events: [c.event_id], limit: 4 })).toEqual(['m.room.member', 'a', 'b']);
  });

  it('walks rooms of versions 1 and 11 the same way', async () => {
    for (const version of ['1', '11', '12']) {
      const r = room(`version-${version}`, version);
      const a = message(r, 'a');
      const b1 = message(r, 'b1', [a]);
      const b2 = message(r, 'b2', [a]);
      const c = message(r, 'c', [b1, b2]);
      await store_(r);
      expect(await walk(r, { latest_events: [c.event_id], limit: 10 })).toEqual(['m.room.create', 'm.room.member', 'a', 'b1', 'b2']);
    }
  });
});
