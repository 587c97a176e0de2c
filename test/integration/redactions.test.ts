/**
 * Redactions imported as PDUs, end to end (real importer, real Neo4j, real listener, signed requests): an accepted
 * m.room.redaction makes the event it names go out pruned with the room version's redaction algorithm (same
 * event_id, hashes and signatures, nothing added), whichever of the two arrives first, in one import or across
 * imports; a rejected one, one of another room's event, and in v3+ one of another server's event by a sender
 * below the redact level never apply (Synapse's check_redaction and _maybe_redact_event_row). Each test also checks
 * an applied redaction or the recorded outcome, so none can pass on an importer that ignores redactions.
 */
import neo4j from 'neo4j-driver';
import { computeEventId } from '../../src/core/event-hashes';
import { redactEvent } from '../../src/core/redaction';
import { getRoomVersion } from '../../src/core/room-versions';
import { generateSigningKey, type SigningKey } from '../../src/core/signing';
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { registerRoomKeys } from '../../src/service/demo-room';
import { loadCypher } from '../../src/store/cypher-files';
import type { Graph } from '../../src/store/neo4j';
import { missingEventsPath, signedPost, startTestService, type TestService } from '../helpers/federation';
import { importLines, openTestGraph } from '../helpers/graph';
import { addRedaction } from '../helpers/redaction-event';

const ALICE = '@alice:hs1.test';
const BOB = '@bob:hs2.test';
const CAROL = '@carol:hs2.test';
const EVE = '@eve:hs3.test';
const SERVERS = ['hs1.test', 'hs2.test', 'hs3.test'];
const QUERIES = loadCypher(['queries/redactions']);

let graph: Graph;
let service: TestService;
const identities = new Map<string, SigningKey>();

beforeAll(async () => {
  graph = await openTestGraph();
  service = await startTestService({ graph, keyFetcherOptions: { minRefetchIntervalMs: 3_600_000 } });
  for (const name of SERVERS) identities.set(name, generateSigningKey(`v${Math.random().toString(36).slice(2, 10)}`));
  await registerRoomKeys({ room_id: '!keys:us.test', room_version: '10', servers: identities }, service.keyStore, Date.now());
});

afterAll(async () => {
  await service?.close();
  await graph?.driver.close();
});

let rooms = 0;

/** create (alice), alice joins, power levels (alice 100, redact 50), public, bob and carol join. */
function room(version: string): RoomBuilder {
  const r = new RoomBuilder(version, `redactions/${version}/${(rooms += 1)}/${Date.now()}`);
  r.create(ALICE);
  r.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  r.add({ type: 'm.room.power_levels', state_key: '', sender: ALICE, content: { users: version === '12' ? {} : { [ALICE]: 100 }, redact: 50 } });
  r.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  for (const user of [BOB, CAROL]) r.add({ type: 'm.room.member', state_key: user, sender: user, content: { membership: 'join' } });
  return r;
}

const message = (r: RoomBuilder, body: string, sender: string, prev?: readonly BuiltEvent[]) =>
  r.add({ type: 'm.room.message', sender, content: { msgtype: 'm.text', body }, ...(prev ? { prev } : {}) });

const redaction = addRedaction;

/** get_missing_events from `latest` as hs2 (bob's server), limit 20: the PDUs, oldest first. */
async function served(r: RoomBuilder, latest: BuiltEvent): Promise<unknown[]> {
  const reply = await signedPost({
    url: service.url, path: missingEventsPath(r.roomId), origin: 'hs2.test', key: identities.get('hs2.test')!,
    destination: service.serverName, body: { latest_events: [latest.event_id], earliest_events: [], limit: 20, min_depth: 0 },
  });
  expect(reply.status).toBe(200);
  return (reply.json as { events: unknown[] }).events;
}

/**
 * What the walk from `latest` must send: every event of `r` older than it but the `left out` (rejected) ones, oldest
 * first, each whole or, for `redacted`, pruned with the room version's algorithm.
 */
function expected(r: RoomBuilder, latest: BuiltEvent, redacted: readonly BuiltEvent[], leftOut: readonly BuiltEvent[] = []): unknown[] {
  const version = getRoomVersion(r.version.id)!;
  return r.events
    .filter((event) => event !== latest && !leftOut.includes(event))
    .sort((a, b) => a.depth - b.depth || (a.pdu.origin_server_ts as number) - (b.pdu.origin_server_ts as number) || a.event_id.localeCompare(b.event_id))
    .map((event) => (redacted.includes(event) ? redactEvent(event.pdu, version) : event.pdu));
}

async function importAll(lines: readonly BuiltEvent[], rejected = 0): Promise<void> {
  const { problems, summary } = await importLines(graph, lines);
  expect(problems).toEqual([]);
  expect(summary.rejected).toBe(rejected);
}

/** The analyst query's (redaction, outcome) rows. */
async function outcomes(r: RoomBuilder): Promise<[string, string][]> {
  const { records } = await graph.driver.executeQuery(QUERIES['queries/redactions'], { room_id: r.roomId }, { database: graph.database });
  return records.map((record) => [record.get('redaction_id') as string, record.get('outcome') as string]);
}

describe.each(['11', '10', '12'])('room version %s', (version) => {
  it('a redaction after its target, in the same import: the target goes out pruned, the rest whole', async () => {
    const r = room(version);
    const target = message(r, 'bob says something regrettable', BOB);
    const other = message(r, 'alice, untouched', ALICE);
    const redacting = redaction(r, ALICE, target.event_id);
    const tail = message(r, 'tail', ALICE, [redacting]);
    await importAll(r.events);

    const events = await served(r, tail);
    expect(events).toEqual(expected(r, tail, [target]));
    // Pruned exactly: the same event ID (hashes and signatures kept), no content, nothing added.
    const roomVersion = getRoomVersion(version)!;
    const pruned = events[events.length - 3] as Record<string, unknown>;
    expect(computeEventId(pruned, roomVersion)).toBe(target.event_id);
    expect(pruned).toEqual(redactEvent(target.pdu, roomVersion));
    expect(pruned.content).toEqual({});
    expect(Object.keys(pruned).sort()).toEqual(Object.keys(redactEvent(target.pdu, roomVersion)).sort());
    expect(pruned).not.toHaveProperty('unsigned');
    expect(events[events.length - 2]).toEqual(other.pdu);
    expect(await outcomes(r)).toEqual([[redacting.event_id, 'applied']]);
  });

  it('a redaction before its target in the file: the same', async () => {
    const r = room(version);
    const target = message(r, 'bob again', BOB);
    const redacting = redaction(r, ALICE, target.event_id);
    const tail = message(r, 'tail', ALICE, [redacting]);
    const lines = [...r.events];
    // The redaction and the events after it first, the target last.
    lines.splice(lines.indexOf(target), 1);
    await importAll([...lines, target]);
    expect(await served(r, tail)).toEqual(expected(r, tail, [target]));
  });
});

describe('across imports', () => {
  it('a redaction imported later than its target: whole before, pruned after', async () => {
    const r = room('11');
    const target = message(r, 'bob, later regretted', BOB);
    const before = message(r, 'tail before', ALICE);
    await importAll(r.events);
    expect(await served(r, before)).toEqual(expected(r, before, []));

    const redacting = redaction(r, ALICE, target.event_id, [before]);
    const tail = message(r, 'tail after', ALICE, [redacting]);
    await importAll([redacting, tail]);
    expect(await served(r, before)).toEqual(expected(r, before, [target], [redacting, tail]));
    expect(await served(r, tail)).toEqual(expected(r, tail, [target]));
  });

  it('a redaction imported before its target (on another branch): open, then applied when the target comes', async () => {
    const r = room('11');
    const fork = message(r, 'fork', ALICE);
    const target = message(r, 'bob on one branch', BOB, [fork]);
    const redacting = redaction(r, ALICE, target.event_id, [fork]);
    const tail = message(r, 'merge', ALICE, [target, redacting]);
    await importAll(r.events.filter((event) => event !== target));
    expect(await outcomes(r)).toEqual([[redacting.event_id, 'waiting for the redacted event']]);

    await importAll([target]);
    expect(await outcomes(r)).toEqual([[redacting.event_id, 'applied']]);
    expect(await served(r, tail)).toEqual(expected(r, tail, [target]));
  });

  it('a redaction whose own state is pending (a gap below it) waits for the gap, then applies', async () => {
    const r = room('11');
    const target = message(r, 'bob', BOB);
    const gap = message(r, 'the gap', ALICE);
    const redacting = redaction(r, ALICE, target.event_id, [gap]);
    const tail = message(r, 'tail', ALICE, [redacting]);
    await importAll(r.events.filter((event) => event !== gap));
    expect(await outcomes(r)).toEqual([[redacting.event_id, 'waiting for its own state']]);
    await importAll([gap]);
    expect(await outcomes(r)).toEqual([[redacting.event_id, 'applied']]);
    expect(await served(r, tail)).toEqual(expected(r, tail, [target]));
  });
});

describe('redactions that never apply', () => {
  it('a rejected redaction (its sender is not in the room) leaves its target whole', async () => {
    const r = room('11');
    const target = message(r, 'alice, targeted by eve', ALICE);
    const control = message(r, 'bob, redacted by alice', BOB);
    const rejected = redaction(r, EVE, target.event_id);
    const applied = redaction(r, ALICE, control.event_id, [rejected]);
    const tail = message(r, 'tail', ALICE, [applied]);
    await importAll(r.events, 1);
    expect(await served(r, tail)).toEqual(expected(r, tail, [control], [rejected]));
    expect(await outcomes(r)).toEqual([[rejected.event_id, 'the redaction is rejected'], [applied.event_id, 'applied']]);
  });

  it.each(['3', '10', '11', '12'])('v%s: a redaction from another server by a sender below the redact level leaves the target whole; of its own server\'s event it applies', async (version) => {
    const r = room(version);
    const alices = message(r, 'alice (hs1)', ALICE);
    const carols = message(r, 'carol (hs2)', CAROL);
    const foreign = redaction(r, BOB, alices.event_id);
    const own = redaction(r, BOB, carols.event_id, [foreign]);
    const tail = message(r, 'tail', ALICE, [own]);
    await importAll(r.events);
    expect(await served(r, tail)).toEqual(expected(r, tail, [carols]));
    expect(await outcomes(r)).toEqual([
      [foreign.event_id, 'sent from another server than the redacted event, by a sender below the redact level'],
      [own.event_id, 'applied'],
    ]);
  });

  it('v1: a redaction from another server by a sender below the redact level is rejected by the authorization rules', async () => {
    const r = room('1');
    const alices = message(r, 'alice (hs1)', ALICE);
    const carols = message(r, 'carol (hs2)', CAROL);
    const foreign = redaction(r, BOB, alices.event_id);
    const applied = redaction(r, ALICE, carols.event_id, [foreign]);
    const tail = message(r, 'tail', ALICE, [applied]);
    await importAll(r.events, 1);
    expect(await served(r, tail)).toEqual(expected(r, tail, [carols], [foreign]));
    expect(await outcomes(r)).toEqual([[foreign.event_id, 'the redaction is rejected'], [applied.event_id, 'applied']]);
  });

  it('a redaction naming an event of another room leaves that event whole in its room', async () => {
    const other = room('11');
    const elsewhere = message(other, 'in the other room', ALICE);
    const otherTail = message(other, 'other tail', ALICE);
    await importAll(other.events);

    const r = room('11');
    const control = message(r, 'bob, redacted', BOB);
    const crossRoom = redaction(r, ALICE, elsewhere.event_id);
    const applied = redaction(r, ALICE, control.event_id, [crossRoom]);
    const tail = message(r, 'tail', ALICE, [applied]);
    await importAll(r.events);
    expect(await served(other, otherTail)).toEqual(expected(other, otherTail, []));
    expect(await served(r, tail)).toEqual(expected(r, tail, [control]));
    expect(await outcomes(r)).toEqual([[crossRoom.event_id, 'the redacted event is in another room'], [applied.event_id, 'applied']]);
    // The mark analysts see: the label and the edge, on the one applied.
    const { records } = await graph.driver.executeQuery(
      'MATCH (e:Event:Redacted) WHERE e.room_id IN $rooms RETURN e.event_id AS id, [(r)-[:REDACTS]->(e) | r.event_id] AS by',
      { rooms: [r.roomId, other.roomId] }, { database: graph.database },
    );
    expect(records.map((record) => [record.get('id'), record.get('by')])).toEqual([[control.event_id, [applied.event_id]]]);
  });

  it('an m.room.create is never redacted', async () => {
    const r = room('11');
    const create = r.events[0]!;
    const control = message(r, 'bob, redacted', BOB);
    const ofCreate = redaction(r, ALICE, create.event_id);
    const applied = redaction(r, ALICE, control.event_id, [ofCreate]);
    const tail = message(r, 'tail', ALICE, [applied]);
    await importAll(r.events);
    expect(await served(r, tail)).toEqual(expected(r, tail, [control]));
    expect(await outcomes(r)).toEqual([[ofCreate.event_id, 'an m.room.create is never redacted'], [applied.event_id, 'applied']]);
  });
});

it('a redacted m.room.server_acl is read pruned, as Synapse reads it: no `allow` left, so it denies every server', async () => {
  const r = room('11');
  r.add({ type: 'm.room.server_acl', state_key: '', sender: ALICE, content: { allow: ['*'], deny: [] } });
  const acl = r.events[r.events.length - 1]!;
  const before = message(r, 'before', ALICE);
  await importAll(r.events);
  expect(await served(r, before)).toEqual(expected(r, before, []));

  const redacting = redaction(r, ALICE, acl.event_id, [before]);
  await importAll([redacting]);
  const reply = await signedPost({
    url: service.url, path: missingEventsPath(r.roomId), origin: 'hs2.test', key: identities.get('hs2.test')!,
    destination: service.serverName, body: { latest_events: [redacting.event_id], earliest_events: [], limit: 20, min_depth: 0 },
  });
  expect(reply.status).toBe(403);
  expect((reply.json as { errcode: string }).errcode).toBe('M_FORBIDDEN');
});

it('importing the same lines again changes nothing', async () => {
  const r = room('11');
  const target = message(r, 'bob', BOB);
  const redacting = redaction(r, ALICE, target.event_id);
  const tail = message(r, 'tail', ALICE, [redacting]);
  await importAll(r.events);
  const { summary } = await importLines(graph, r.events);
  expect(summary.unchanged).toBe(r.events.length);
  expect(await served(r, tail)).toEqual(expected(r, tail, [target]));
  const { records } = await graph.driver.executeQuery(
    'MATCH (:Event {room_id: $room_id})-[edge:REDACTS]->() RETURN count(edge) AS edges', { room_id: r.roomId }, { database: graph.database },
  );
  expect(neo4j.integer.toNumber(records[0]!.get('edges'))).toBe(1);
});
