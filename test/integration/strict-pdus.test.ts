/**
 * Issue 19, items 6, 8 and 9, through the real importer into the real Neo4j: a PDU whose numbers canonical JSON
 * cannot hold, or with more prev_events/auth_events than Synapse accepts, is one refused line (counted as skipped,
 * nothing stored), a v12 m.room.create with no canonical form too (it used to abort the whole import); and an event
 * whose auth_events name an event that is not a state event is rejected, where it used to stay pending.
 * Each test builds rooms of its own (seeded by the test's name and the time, so a re-run never meets them stored).
 */
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import type { Graph } from '../../src/store/neo4j';
import { importLines, openTestGraph } from '../helpers/graph';
import { queryGraph } from '../helpers/room-graph';

let graph: Graph;

beforeAll(async () => {
  graph = await openTestGraph();
});

afterAll(async () => {
  await graph.driver.close();
});

const ALICE = '@alice:hs1.test';
const RUN = Date.now();

function room(seed: string, version = '10'): RoomBuilder {
  const builder = new RoomBuilder(version, `strict-pdus/${seed}/${RUN}`);
  builder.create(ALICE);
  builder.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  return builder;
}

function message(builder: RoomBuilder, body: string, extra: Partial<Parameters<RoomBuilder['add']>[0]> = {}): BuiltEvent {
  return builder.add({ type: 'm.room.message', sender: ALICE, content: { msgtype: 'm.text', body, n: 1 }, ...extra });
}

/** The event's line with `from` (as JSON.stringify writes it) rewritten as `to`. */
function rewritten(event: BuiltEvent, from: string, to: string): string {
  const line = JSON.stringify(event.pdu);
  if (!line.includes(from)) throw new Error(`${from} is not in ${event.event_id}`);
  return line.replace(from, to);
}

async function storedIds(roomId: string): Promise<string[]> {
  const found = await queryGraph<{ id: string }>(graph, 'MATCH (e:Event {room_id: $room_id}) WHERE NOT e:Placeholder RETURN e.event_id AS id ORDER BY id', { room_id: roomId });
  return found.map((row) => row.id);
}

describe('PDUs whose numbers canonical JSON cannot hold (item 6)', () => {
  it('refuses 1.0, 1e0, 10e-1, depth 5.0 and origin_server_ts 1.7e12 as lines of their own, storing the rest', async () => {
    const r = room('floats');
    const good = message(r, 'good');
    const bad = ['a', 'b', 'c', 'd', 'e'].map((body) => message(r, body, { prev: [good] }));
    const lines = [
      ...r.events.slice(0, 3).map((event) => JSON.stringify(event.pdu)),
      rewritten(bad[0]!, '"n":1', '"n":1.0'),
      rewritten(bad[1]!, '"n":1', '"n":1e0'),
      rewritten(bad[2]!, '"n":1', '"n":10e-1'),
      rewritten(bad[3]!, `"depth":${bad[3]!.depth}`, `"depth":${bad[3]!.depth}.0`),
      rewritten(bad[4]!, `"origin_server_ts":${String(bad[4]!.pdu.origin_server_ts)}`, `"origin_server_ts":${String(bad[4]!.pdu.origin_server_ts).slice(0, 4)}e9`),
    ];
    const { summary, problems } = await importLines(graph, lines, 'floats');
    const strict = 'room version 10 allows only integers in [-(2^53)+1, 2^53-1], written without fraction or exponent';
    expect(problems).toEqual([
      { at: 'floats:4', severity: 'error', message: `content holds the number 1.0 (not an integer): ${strict}` },
      { at: 'floats:5', severity: 'error', message: `content holds the number 1e0 (not an integer): ${strict}` },
      { at: 'floats:6', severity: 'error', message: `content holds the number 10e-1 (not an integer): ${strict}` },
      { at: 'floats:7', severity: 'error', message: `depth is ${bad[3]!.depth}.0, not an integer (refused in every room version, as Synapse does)` },
      { at: 'floats:8', severity: 'error', message: `origin_server_ts holds the number ${String(bad[4]!.pdu.origin_server_ts).slice(0, 4)}e9 (not an integer): ${strict}` },
    ]);
    expect([summary.stored, summary.skipped]).toEqual([3, 5]);
    expect(await storedIds(r.roomId)).toEqual(r.events.slice(0, 3).map((event) => event.event_id).sort());
  });

  it('refuses a v12 m.room.create with no canonical form as one line, and imports the other rooms of the file', async () => {
    const broken = new RoomBuilder('12', `strict-pdus/v12-broken/${RUN}`);
    const create = broken.create(ALICE);
    const createLine = rewritten(create, '"room_version":"12"', '"room_version":"12","x":"\\ud800"');
    const other = room('beside-v12');
    const { summary, problems } = await importLines(graph, [createLine, ...other.events.map((event) => JSON.stringify(event.pdu))], 'v12');
    expect(problems).toEqual([
      { at: 'v12:1', severity: 'error', message: 'the event has no canonical JSON form: string contains a lone UTF-16 surrogate: "\\ud800"' },
    ]);
    expect([summary.stored, summary.skipped]).toEqual([2, 1]);
    expect(await storedIds(other.roomId)).toEqual(other.events.map((event) => event.event_id).sort());
  });
});

describe("Synapse's limits on prev_events and auth_events (item 8)", () => {
  it('refuses an event with 21 prev_events or 11 auth_events, and stores one with 20', async () => {
    const r = room('limits');
    const fork = Array.from({ length: 21 }, (_, i) => message(r, `fork ${i}`, { prev: [r.events[1]!] }));
    const twenty = message(r, 'twenty', { prev: fork.slice(0, 20) });
    const wide = message(r, 'wide', { prev: fork });
    const lines = r.events.map((event) => JSON.stringify(event.pdu));
    const join = r.events[1]!.event_id;
    const manyAuth = JSON.stringify({ ...twenty.pdu, auth_events: [...(twenty.pdu.auth_events as string[]), ...Array(9).fill(join)] });
    const { summary, problems } = await importLines(graph, [...lines, manyAuth], 'limits');
    expect(problems).toEqual([
      { at: `limits:${lines.length}`, severity: 'error', message: 'prev_events lists 21 events; at most 20 are accepted (as Synapse)' },
      { at: `limits:${lines.length + 1}`, severity: 'error', message: 'auth_events lists 11 events; at most 10 are accepted (as Synapse)' },
    ]);
    expect([summary.stored, summary.skipped]).toEqual([lines.length - 1, 2]);
    expect(await storedIds(r.roomId)).toEqual(r.events.filter((event) => event !== wide).map((event) => event.event_id).sort());
  });
});

describe('auth_events naming an event that is not a state event (item 9)', () => {
  async function verdicts(ids: readonly string[]): Promise<{ id: string; rejected: string | null; pending: boolean }[]> {
    return queryGraph(graph, `UNWIND $ids AS id MATCH (e:Event {event_id: id})
      RETURN id, e.rejected_reason AS rejected, e:StatePending AS pending`, { ids });
  }

  /** A room with a message, and an event citing that message where its power levels event belongs. */
  function citing(seed: string): { r: RoomBuilder; cited: BuiltEvent; event: BuiltEvent } {
    const r = room(seed);
    const cited = message(r, 'cited');
    const event = r.add({
      type: 'm.room.topic', state_key: '', sender: ALICE, content: { topic: 't' },
      authState: (type, key) => (type === 'm.room.power_levels' ? cited : r.currentState(type, key)),
    });
    expect(event.pdu.auth_events).toContain(cited.event_id);
    return { r, cited, event };
  }

  const reason = (cited: BuiltEvent) => `fails the authorization rules on its auth_events: auth event ${cited.event_id} is not a state event`;

  it('rejects it when both are in one import', async () => {
    const { r, cited, event } = citing('non-state-one-import');
    const { summary, problems } = await importLines(graph, r.events, 'one');
    expect([problems, summary.rejected, summary.statePending]).toEqual([[], 1, 0]);
    expect(await verdicts([event.event_id])).toEqual([{ id: event.event_id, rejected: reason(cited), pending: false }]);
  });

  it('rejects it when the cited event was stored by an earlier import', async () => {
    const { r, cited, event } = citing('non-state-two-imports');
    const first = await importLines(graph, r.events.filter((e) => e !== event), 'first');
    expect(first.problems).toEqual([]);
    const { summary, problems } = await importLines(graph, [event], 'second');
    expect([problems, summary.rejected, summary.statePending]).toEqual([[], 1, 0]);
    expect(await verdicts([event.event_id])).toEqual([{ id: event.event_id, rejected: reason(cited), pending: false }]);
  });
});
