/**
 * The rooms the endpoint fuzz asks about, built with the RoomBuilder (real hashes, signatures and event IDs) and
 * imported through the real importer, with what each origin may receive of each event written down by hand:
 *
 * - room J (version 10, history_visibility `joined` from its fifth event): fuzz1.test creates it; fuzz2.test joins
 *   after three messages, fuzz3.test after two more. The first four events, before any history visibility (so
 *   `shared`), go out whole; from the history_visibility event on, an origin sees an event whole only from its
 *   member's join on, and earlier ones redacted. fuzz4.test has no member: 403.
 * - room S (version 1, `shared`): fuzz1.test and fuzz2.test. Its event s2 names J's m5 in prev_events, a forged
 *   edge into another room: the walk must never cross it, and s2 and s3, whose state cannot be known (a prev event
 *   is not in their room), go out redacted to everyone.
 */
import { computeEventId } from '../core/event-hashes';
import { redactEvent } from '../core/redaction';
import { getRoomVersion } from '../core/room-versions';
import type { SigningKey } from '../core/signing';
import { RoomBuilder, type BuiltEvent } from '../generator/room-builder';
import { Importer, type ImportProblem } from '../importer/importer';
import { registerRoomKeys } from '../service/demo-room';
import { EventStore } from '../store/event-store';
import type { Graph } from '../store/neo4j';
import type { Neo4jServerKeyStore } from '../store/server-key-store';

export const FUZZ_ORIGINS = ['fuzz1.test', 'fuzz2.test', 'fuzz3.test', 'fuzz4.test'] as const;
const A = '@a:fuzz1.test';
const B = '@b:fuzz2.test';
const C = '@c:fuzz3.test';

export interface FixtureRoom {
  readonly roomId: string;
  readonly version: string;
  readonly events: readonly BuiltEvent[];
  /** event_id -> the origins that receive it whole; every other origin in the room receives its redaction. */
  readonly seenWholeBy: ReadonlyMap<string, ReadonlySet<string>>;
  /** Origins the room answers at all (the others get 403). */
  readonly readers: ReadonlySet<string>;
}

export interface Fixture {
  readonly rooms: readonly FixtureRoom[];
  /** The key each fuzz origin signs requests with, as the service's key store was told. */
  readonly identities: ReadonlyMap<string, SigningKey>;
  /** Every event ID of every fixture room. */
  readonly eventIds: readonly string[];
}

export function buildFixture(): Fixture {
  const j = new RoomBuilder('10', 'fuzz/room-j');
  j.create(A);
  j.add({ type: 'm.room.member', state_key: A, sender: A, content: { membership: 'join' } });
  j.add({ type: 'm.room.power_levels', state_key: '', sender: A, content: { users: { [A]: 100 } } });
  j.add({ type: 'm.room.join_rules', state_key: '', sender: A, content: { join_rule: 'public' } });
  const joinedOnly = j.add({ type: 'm.room.history_visibility', state_key: '', sender: A, content: { history_visibility: 'joined' } });
  const say = (builder: RoomBuilder, body: string, prev?: BuiltEvent[]) =>
    builder.add({ type: 'm.room.message', sender: A, content: { msgtype: 'm.text', body }, ...(prev ? { prev } : {}) });
  for (const body of ['m1', 'm2', 'm3']) say(j, body);
  const bJoin = j.add({ type: 'm.room.member', state_key: B, sender: B, content: { membership: 'join' } });
  say(j, 'm4');
  const m5 = say(j, 'm5');
  const cJoin = j.add({ type: 'm.room.member', state_key: C, sender: C, content: { membership: 'join' } });
  say(j, 'm6');
  const jSeen = new Map<string, Set<string>>();
  j.events.forEach((event, index) => {
    if (index < j.events.indexOf(joinedOnly)) return jSeen.set(event.event_id, new Set(FUZZ_ORIGINS));
    const seen = new Set(['fuzz1.test']);
    if (index >= j.events.indexOf(bJoin)) seen.add('fuzz2.test');
    if (index >= j.events.indexOf(cJoin)) seen.add('fuzz3.test');
    jSeen.set(event.event_id, seen);
  });

  const s = new RoomBuilder('1', 'fuzz/room-s');
  s.create(A);
  s.add({ type: 'm.room.member', state_key: A, sender: A, content: { membership: 'join' } });
  s.add({ type: 'm.room.power_levels', state_key: '', sender: A, content: { users: { [A]: 100 } } });
  s.add({ type: 'm.room.join_rules', state_key: '', sender: A, content: { join_rule: 'public' } });
  s.add({ type: 'm.room.member', state_key: B, sender: B, content: { membership: 'join' } });
  const s1 = say(s, 's1');
  const s2 = say(s, 's2', [s1, m5]);
  say(s, 's3', [s2]);
  const sSeen = new Map<string, Set<string>>();
  s.events.forEach((event, index) => sSeen.set(event.event_id, new Set(index < s.events.indexOf(s2) ? ['fuzz1.test', 'fuzz2.test'] : [])));

  const identities = new Map<string, SigningKey>(FUZZ_ORIGINS.map((origin) => [origin, j.keyOf(origin)]));
  return {
    rooms: [
      { roomId: j.roomId, version: '10', events: j.events, seenWholeBy: jSeen, readers: new Set(['fuzz1.test', 'fuzz2.test', 'fuzz3.test']) },
      { roomId: s.roomId, version: '1', events: s.events, seenWholeBy: sSeen, readers: new Set(['fuzz1.test', 'fuzz2.test']) },
    ],
    identities,
    eventIds: [...j.events, ...s.events].map((event) => event.event_id),
  };
}

/** Imports the fixture (events already stored are left as they are) and tells the key store the origins' keys. */
export async function storeFixture(graph: Graph, keyStore: Neo4jServerKeyStore, fixture: Fixture): Promise<void> {
  const problems: ImportProblem[] = [];
  const importer = new Importer(new EventStore(graph), { onProblem: (problem) => problems.push(problem) });
  await importer.importLines(
    fixture.rooms.flatMap((room) => room.events.map((event) => JSON.stringify(event.pdu))),
    'fuzz-fixture',
  );
  await importer.finish();
  if (problems.length > 0) throw new Error(`the fuzz fixture did not import cleanly: ${problems.map((p) => `${p.at} ${p.message}`).join('; ')}`);
  await registerRoomKeys({ room_id: fixture.rooms[0]!.roomId, room_version: '10', servers: fixture.identities }, keyStore, Date.now());
}

/**
 * What `origin` may receive of a PDU returned for `roomId`: the stored PDU or its redaction, or undefined when the
 * PDU is not an event of that room at all (a leak).
 */
export function expectedPdu(fixture: Fixture, roomId: string, origin: string, returned: Record<string, unknown>): Record<string, unknown> | undefined {
  const room = fixture.rooms.find((r) => r.roomId === roomId);
  if (room === undefined) return undefined;
  const version = getRoomVersion(room.version)!;
  const eventId = computeEventId(returned, version);
  const event = room.events.find((e) => e.event_id === eventId);
  if (event === undefined || returned.room_id !== roomId) return undefined;
  return room.seenWholeBy.get(event.event_id)!.has(origin) ? event.pdu : (redactEvent(event.pdu, version) as Record<string, unknown>);
}
