/**
 * History visibility per server, end to end (real listener, real Neo4j, signed requests): each event the calling
 * server may not see, by the history visibility and its memberships in the state after the event, is returned
 * redacted with the room version's algorithm; the answer has the same events either way. Complement's
 * TestInboundCanReturnMissingEvents is rebuilt here on our own rooms.
 */
import { redactEvent } from '../../src/core/redaction';
import { getRoomVersion } from '../../src/core/room-versions';
import { generateSigningKey, type SigningKey } from '../../src/core/signing';
import { generateRoom, roomBuilderFor } from '../../src/generator/generate-room';
import { SeededRandom } from '../../src/generator/random';
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { registerRoomKeys } from '../../src/service/demo-room';
import type { Graph } from '../../src/store/neo4j';
import { missingEventsPath, signedPost, startTestService, type Reply, type TestService } from '../helpers/federation';
import { importLines, openTestGraph } from '../helpers/graph';
import { serverNameOf } from '../../src/core/identifiers';

const ALICE = '@alice:hs1.test';
const BOB = '@bob:hs2.test';
const DAVE = '@dave:hs2.test';
const SERVERS = ['hs1.test', 'hs2.test', 'hs3.test', 'hs4.test'];

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

/** create, alice joins, power levels, public join rules, the given history visibility. */
function room(seed: string, version: string, historyVisibility: string): RoomBuilder {
  const r = new RoomBuilder(version, `visibility/${seed}`);
  r.create(ALICE);
  r.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  r.add({ type: 'm.room.power_levels', state_key: '', sender: ALICE, content: { users: version === '12' ? {} : { [ALICE]: 100 } } });
  r.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  r.add({ type: 'm.room.history_visibility', state_key: '', sender: ALICE, content: { history_visibility: historyVisibility } });
  return r;
}

const member = (r: RoomBuilder, user: string, membership: string, sender = user) =>
  r.add({ type: 'm.room.member', state_key: user, sender, content: { membership } });
const message = (r: RoomBuilder, body: string, sender = ALICE) => r.add({ type: 'm.room.message', sender, content: { msgtype: 'm.text', body } });
const visibility = (r: RoomBuilder, value: string) =>
  r.add({ type: 'm.room.history_visibility', state_key: '', sender: ALICE, content: { history_visibility: value } });

async function ask(r: RoomBuilder, origin: string, body: Record<string, unknown>): Promise<Reply> {
  const { problems } = await importLines(graph, r.events);
  expect(problems).toEqual([]);
  return signedPost({
    url: service.url, path: missingEventsPath(r.roomId), origin, key: identities.get(origin)!, destination: service.serverName, body,
  });
}

/** The answer as (event ID, 'whole' | 'redacted'), checking that each PDU is exactly the event or its redaction. */
function shape(reply: Reply, r: RoomBuilder): [string, string][] {
  expect(reply.status).toBe(200);
  const version = getRoomVersion(r.version.id)!;
  return ((reply.json as { events: unknown[] }).events).map((pdu) => {
    const event = r.events.find((e) => JSON.stringify(e.pdu) === JSON.stringify(pdu) || JSON.stringify(redactEvent(e.pdu, version)) === JSON.stringify(pdu));
    if (event === undefined) return ['(unknown event)', JSON.stringify(pdu).slice(0, 80)];
    const whole = JSON.stringify(event.pdu) === JSON.stringify(pdu);
    // A message's redaction differs from the message; a state event's may equal it (nothing to strip).
    return [event.event_id, whole ? 'whole' : 'redacted'];
  });
}

describe.each(['1', '10', '11', '12'])('Complement TestInboundCanReturnMissingEvents, room version %s', (version) => {
  it.each([
    ['world_readable', 'whole'],
    ['shared', 'whole'],
    ['invited', 'redacted'],
    ['joined', 'redacted'],
  ])('history visibility %s: the message is sent %s', async (historyVisibility, messageForm) => {
    // The history visibility event itself is judged by the state after it, as Synapse judges it: under `invited`
    // and `joined` hs2 had no member then, so it goes out redacted too (its redaction keeps its content).
    const r = room(`complement/${version}/${historyVisibility}`, version, historyVisibility);
    const [create, aliceJoin, powerLevels, joinRules, visibilityEvent] = r.events as [BuiltEvent, BuiltEvent, BuiltEvent, BuiltEvent, BuiltEvent];
    const msg = message(r, 'before bob joined');
    const bobJoin = member(r, BOB, 'join');
    const reply = await ask(r, 'hs2.test', {
      earliest_events: [create.event_id], latest_events: [bobJoin.event_id], limit: 10, min_depth: 1,
    });
    expect(shape(reply, r)).toEqual([
      [aliceJoin.event_id, 'whole'],
      [powerLevels.event_id, 'whole'],
      [joinRules.event_id, 'whole'],
      [visibilityEvent.event_id, messageForm],
      [msg.event_id, messageForm],
    ]);
    if (messageForm === 'redacted') {
      expect((reply.json as { events: Record<string, unknown>[] }).events[4]).toEqual(redactEvent(msg.pdu, getRoomVersion(version)!));
    }
  });
});

describe('history visibility over a room’s life', () => {
  const all = (r: RoomBuilder, latest: BuiltEvent) => ({ earliest_events: [], latest_events: [latest.event_id], limit: 20, min_depth: 0 });

  it('shared, then joined, then world_readable: each event judged by the visibility after it', async () => {
    const r = room('changing', '10', 'shared');
    const m1 = message(r, 'm1 (shared)');
    const toJoined = visibility(r, 'joined');
    const m2 = message(r, 'm2 (joined)');
    const toWorld = visibility(r, 'world_readable');
    const m3 = message(r, 'm3 (world_readable)');
    const bobJoin = member(r, BOB, 'join');
    const latest = message(r, 'latest');
    const got = shape(await ask(r, 'hs2.test', all(r, latest)), r);
    expect(got.slice(5)).toEqual([
      [m1.event_id, 'whole'],
      [toJoined.event_id, 'redacted'],
      [m2.event_id, 'redacted'],
      [toWorld.event_id, 'whole'],
      [m3.event_id, 'whole'],
      [bobJoin.event_id, 'whole'],
    ]);
  });

  it('joined: a server that leaves sees nothing until it rejoins', async () => {
    const r = room('leave-rejoin', '10', 'joined');
    const bobJoin = member(r, BOB, 'join');
    const m1 = message(r, 'm1 (bob in)');
    const bobLeave = member(r, BOB, 'leave');
    const m2 = message(r, 'm2 (bob out)');
    const bobRejoin = member(r, BOB, 'join');
    const m3 = message(r, 'm3 (bob back)');
    const latest = message(r, 'latest');
    const got = shape(await ask(r, 'hs2.test', all(r, latest)), r);
    expect(got.slice(5)).toEqual([
      [bobJoin.event_id, 'whole'],
      [m1.event_id, 'whole'],
      [bobLeave.event_id, 'redacted'],
      [m2.event_id, 'redacted'],
      [bobRejoin.event_id, 'whole'],
      [m3.event_id, 'whole'],
    ]);
  });

  it.each([
    ['invited', 'whole'],
    ['joined', 'redacted'],
  ])('%s: an invite never accepted lets its server see what followed only under invited (%s)', async (historyVisibility, form) => {
    const r = room(`invite/${historyVisibility}`, '10', historyVisibility);
    const invite = member(r, BOB, 'invite', ALICE);
    const m1 = message(r, 'm1 (bob invited)');
    const daveJoin = member(r, DAVE, 'join');
    const latest = message(r, 'latest');
    const got = shape(await ask(r, 'hs2.test', all(r, latest)), r);
    expect(got.slice(5)).toEqual([
      [invite.event_id, form],
      [m1.event_id, form],
      [daveJoin.event_id, 'whole'],
    ]);
  });

  it('an unknown room answers exactly like a room the server is not in: 403 M_FORBIDDEN', async () => {
    const r = room('not-in', '10', 'shared');
    const latest = message(r, 'latest');
    const inRoomNot = await ask(r, 'hs3.test', all(r, latest));
    const unknown = await signedPost({
      url: service.url, path: missingEventsPath('!unknown:hs1.test'), origin: 'hs3.test', key: identities.get('hs3.test')!,
      destination: service.serverName, body: all(r, latest),
    });
    expect([inRoomNot.status, inRoomNot.json]).toEqual([403, { errcode: 'M_FORBIDDEN', error: `hs3.test has no joined member in ${r.roomId}` }]);
    expect([unknown.status, unknown.json]).toEqual([403, { errcode: 'M_FORBIDDEN', error: 'hs3.test has no joined member in !unknown:hs1.test' }]);
  });
});

describe('random requests on generated rooms', () => {
  it.each(['joined', 'invited', 'shared'])(
    'history visibility %s: every event is byte for byte the stored PDU, or exactly its redaction when the rules say so',
    async (historyVisibility) => {
      const options = { events: 150, roomVersion: '10', seed: `visibility/random/${historyVisibility}`, servers: 4, historyVisibility };
      const builder = roomBuilderFor(options);
      const events = [...generateRoom(options, builder)];
      await importLines(graph, events);
      // The generator changes state only on its main line (forks hold messages), so replaying the state events in
      // the order they were made gives the state after each event.
      const after = replayVisibility(events);
      const random = new SeededRandom(`visibility/${historyVisibility}`);
      const version = getRoomVersion('10')!;
      let redacted = 0;
      let checked = 0;
      for (let i = 0; i < 40; i++) {
        // Half the requests end early in the room, where the servers are still joining.
        const latest = events[i % 2 === 0 ? random.int(5, 30) : random.int(10, events.length - 1)]!;
        const origin = random.pick(SERVERS.slice(1));
        const reply = await signedPost({
          url: service.url, path: missingEventsPath(builder.roomId), origin, key: identities.get(origin)!, destination: service.serverName,
          body: { latest_events: [latest.event_id], earliest_events: [], limit: random.int(1, 20), min_depth: 0 },
        });
        if (reply.status === 403) {
          // The origin has no joined member in the room's current state.
          expect(after.get(events[events.length - 1]!.event_id)!.joined.has(origin)).toBe(false);
          continue;
        }
        expect(reply.status).toBe(200);
        const body = reply.text.slice('{"events":['.length, -2);
        for (const pdu of (reply.json as { events: Record<string, unknown>[] }).events) {
          const event = events.find((e) => e.event_id === eventIdOf(e, pdu))!;
          const facts = after.get(event.event_id)!;
          const visible =
            facts.visibility === 'joined' ? facts.joined.has(origin) : facts.visibility === 'invited' ? facts.joined.has(origin) || facts.invited.has(origin) : true;
          const expected = visible ? JSON.stringify(event.pdu) : JSON.stringify(redactEvent(event.pdu, version));
          expect(body.includes(expected)).toBe(true);
          if (!visible) redacted += 1;
          checked += 1;
        }
      }
      expect(checked).toBeGreaterThan(100);
      if (historyVisibility === 'shared') expect(redacted).toBe(0);
      else expect(redacted).toBeGreaterThan(0);
    },
  );
});

function eventIdOf(event: BuiltEvent, pdu: Record<string, unknown>): string | undefined {
  return pdu.origin_server_ts === event.pdu.origin_server_ts && pdu.sender === event.pdu.sender && pdu.depth === event.pdu.depth ? event.event_id : undefined;
}

/** Per event: the history visibility and the servers with joined and invited members in the state after it. */
function replayVisibility(events: readonly BuiltEvent[]): Map<string, { visibility: string; joined: Set<string>; invited: Set<string> }> {
  const memberships = new Map<string, string>();
  let visibility = 'shared';
  const result = new Map<string, { visibility: string; joined: Set<string>; invited: Set<string> }>();
  for (const event of events) {
    const content = event.pdu.content as Record<string, unknown>;
    if (event.type === 'm.room.member') memberships.set(event.state_key!, content.membership as string);
    if (event.type === 'm.room.history_visibility') visibility = content.history_visibility as string;
    const servers = (membership: string) =>
      new Set([...memberships].filter(([, m]) => m === membership).map(([user]) => serverNameOf(user)!));
    result.set(event.event_id, { visibility, joined: servers('join'), invited: servers('invite') });
  }
  return result;
}
