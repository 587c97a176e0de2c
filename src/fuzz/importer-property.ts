/**
 * The importer's property, shared by test/fuzz and `npm run fuzz`: a file forged from a real room (lines of
 * garbage, events moved into another room, prev_events cycles, a level hundreds of events wide, fields replaced by
 * hostile values, numbers written as floats or beyond 2^53, prev_events and auth_events lists up to 20,000 long,
 * lines repeated, dropped and shuffled) imports without a crash, and afterwards the endpoint still answers every walk
 * from the file's events with no 5xx, with events of the requested room only, and with no number canonical JSON
 * cannot hold (such a line is refused at import: issue 19, item 6). Each run's rooms are deleted afterwards.
 */
import fc from 'fast-check';
import { computeEventId } from '../core/event-hashes';
import { isEventId } from '../core/identifiers';
import { getRoomVersion } from '../core/room-versions';
import { RoomBuilder, type BuiltEvent } from '../generator/room-builder';
import { Importer } from '../importer/importer';
import { EventStore } from '../store/event-store';
import type { Graph } from '../store/neo4j';
import { firstNonCanonicalNumber } from '../core/json-numbers';
import { hostileString, hostileValue, nonCanonicalNumberText } from './arbitraries';
import { send, type Reply } from './endpoint-property';
import type { Fixture } from './fixture';
import { deleteRoom } from './graph-fingerprint';

const A = '@a:fuzz1.test';
const B = '@b:fuzz2.test';
const FIELDS = ['depth', 'prev_events', 'auth_events', 'room_id', 'type', 'content', 'origin_server_ts', 'sender', 'state_key', 'event_id', 'hashes'];

type Mutation =
  | { readonly kind: 'garbage'; readonly text: string }
  | { readonly kind: 'move'; readonly index: number }
  | { readonly kind: 'cycle'; readonly from: number; readonly to: number }
  | { readonly kind: 'field'; readonly index: number; readonly field: string; readonly value: unknown }
  | { readonly kind: 'number'; readonly index: number; readonly field: 'depth' | 'origin_server_ts' | 'content'; readonly text: string }
  | { readonly kind: 'references'; readonly index: number; readonly field: 'prev_events' | 'auth_events'; readonly count: number }
  | { readonly kind: 'duplicate'; readonly index: number }
  | { readonly kind: 'drop'; readonly index: number };

export interface ForgedFile {
  readonly seed: string;
  readonly version: '1' | '10';
  readonly messages: number;
  readonly width: number;
  readonly mutations: readonly Mutation[];
  readonly shuffle: number;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.oneof(hostileString, hostileValue.map((v) => JSON.stringify(v) ?? 'null')).map((text) => ({ kind: 'garbage' as const, text })),
  fc.nat().map((index) => ({ kind: 'move' as const, index })),
  fc.tuple(fc.nat(), fc.nat()).map(([from, to]) => ({ kind: 'cycle' as const, from, to })),
  fc.tuple(fc.nat(), fc.constantFrom(...FIELDS), hostileValue).map(([index, field, value]) => ({ kind: 'field' as const, index, field, value })),
  fc.nat().map((index) => ({ kind: 'duplicate' as const, index })),
  fc.nat().map((index) => ({ kind: 'drop' as const, index })),
  fc.tuple(fc.nat(), fc.constantFrom('depth' as const, 'origin_server_ts' as const, 'content' as const), nonCanonicalNumberText)
    .map(([index, field, text]) => ({ kind: 'number' as const, index, field, text })),
  fc.tuple(fc.nat(), fc.constantFrom('prev_events' as const, 'auth_events' as const),
    fc.oneof({ weight: 5, arbitrary: fc.constantFrom(10, 11, 20, 21, 1000) }, { weight: 1, arbitrary: fc.constant(20_000) }))
    .map(([index, field, count]) => ({ kind: 'references' as const, index, field, count })),
);

export const forgedFile: fc.Arbitrary<ForgedFile> = fc.record({
  seed: fc.string({ maxLength: 12 }),
  version: fc.constantFrom('1' as const, '10' as const),
  messages: fc.integer({ min: 1, max: 15 }),
  width: fc.oneof(fc.constant(0), fc.integer({ min: 2, max: 300 })),
  mutations: fc.array(mutation, { maxLength: 8 }),
  shuffle: fc.nat(),
});

interface Forged {
  readonly lines: string[];
  /** Room ID -> its version, and the IDs of the events the file claims for it. */
  readonly rooms: Map<string, { version: string; eventIds: Set<string> }>;
}

/** The file's lines, from a real room and a second one, forged as `file` says. */
export function forge(file: ForgedFile, runId: string): Forged {
  const room = new RoomBuilder(file.version, `fuzz/importer/${runId}/${file.seed}`);
  room.create(A);
  room.add({ type: 'm.room.member', state_key: A, sender: A, content: { membership: 'join' } });
  room.add({ type: 'm.room.join_rules', state_key: '', sender: A, content: { join_rule: 'public' } });
  room.add({ type: 'm.room.member', state_key: B, sender: B, content: { membership: 'join' } });
  const say = (body: string, prev?: BuiltEvent[]) => room.add({ type: 'm.room.message', sender: A, content: { msgtype: 'm.text', body }, ...(prev ? { prev } : {}) });
  for (let i = 0; i < file.messages; i++) say(`m${i}`);
  if (file.width > 0) {
    // A level `width` events wide, merged twenty at a time, then once more.
    const base = room.forwardExtremities()[0]!;
    const level = Array.from({ length: file.width }, (_, i) => say(`w${i}`, [base]));
    const merges = [];
    for (let i = 0; i < level.length; i += 20) merges.push(say(`merge${i}`, level.slice(i, i + 20)));
    say('tip', merges.slice(0, 20));
  }
  const other = new RoomBuilder('10', `fuzz/importer/${runId}/${file.seed}/other`);
  other.create(A);
  other.add({ type: 'm.room.member', state_key: A, sender: A, content: { membership: 'join' } });
  other.add({ type: 'm.room.message', sender: A, content: { msgtype: 'm.text', body: 'other' } });

  const pdus: unknown[] = [...room.events, ...other.events].map((event) => structuredClone(event.pdu));
  const at = (index: number) => index % pdus.length;
  // Numbers as written go in after JSON.stringify, which would write 1.0 as 1: a marker string stands in till then.
  const numbers = new Map<string, string>();
  for (const change of file.mutations) {
    const target = pdus[at('index' in change ? change.index : 'from' in change ? change.from : 0)];
    switch (change.kind) {
      case 'garbage':
        pdus.push(change.text);
        break;
      case 'move':
        if (isRecord(target)) pdus.push({ ...target, room_id: other.roomId });
        break;
      case 'cycle': {
        // In a version-1 room an event carries its own ID, so a file can claim any DAG, cycles included.
        const to = pdus[at(change.to)];
        if (isRecord(target) && isRecord(to) && typeof to.event_id === 'string') target.prev_events = [[to.event_id, { sha256: 'x' }]];
        break;
      }
      case 'field':
        if (isRecord(target)) target[change.field] = change.value;
        break;
      case 'number': {
        if (!isRecord(target)) break;
        const marker = `number-marker-${numbers.size}`;
        numbers.set(marker, change.text);
        if (change.field === 'content') target.content = { ...(isRecord(target.content) ? target.content : {}), n: marker };
        else target[change.field] = marker;
        break;
      }
      case 'references': {
        // The event's own references first (real ones, so the list is otherwise valid), then made-up IDs.
        if (!isRecord(target)) break;
        const own = Array.isArray(target[change.field]) ? (target[change.field] as unknown[]) : [];
        const madeUp = Array.from({ length: Math.max(0, change.count - own.length) }, (_, i) => `$fuzz${i}${'A'.repeat(30)}`);
        const references = file.version === '1' ? madeUp.map((id) => [`${id}:fuzz1.test`, { sha256: 'x' }]) : madeUp;
        target[change.field] = [...own, ...references].slice(0, change.count);
        break;
      }
      case 'duplicate':
        pdus.push(target);
        break;
      case 'drop':
        pdus.splice(at(change.index), 1);
        break;
    }
  }
  const written = (pdu: unknown) => {
    let text = typeof pdu === 'string' ? pdu : JSON.stringify(pdu);
    for (const [marker, number] of numbers) text = text.replaceAll(`"${marker}"`, number);
    return text;
  };
  const lines = shuffled(pdus.map(written), file.shuffle);

  const rooms = new Map<string, { version: string; eventIds: Set<string> }>([
    [room.roomId, { version: file.version, eventIds: new Set() }],
    [other.roomId, { version: '10', eventIds: new Set() }],
  ]);
  for (const pdu of pdus) {
    if (!isRecord(pdu) || typeof pdu.room_id !== 'string') continue;
    const claimed = rooms.get(pdu.room_id);
    const id = claimed && safeEventId(pdu, claimed.version);
    if (claimed && id) claimed.eventIds.add(id);
  }
  return { lines, rooms };
}

/** Imports the forged file, then walks each of its rooms from its events; returns what went wrong, if anything. */
export async function checkForgedImport(graph: Graph, url: string, fixture: Fixture, file: ForgedFile, runId: string): Promise<string | undefined> {
  const { lines, rooms } = forge(file, runId);
  try {
    const importer = new Importer(new EventStore(graph), { batchSize: 50, onProblem: () => undefined });
    try {
      await importer.importLines(lines, 'forged');
      await importer.finish();
    } catch (error) {
      return `the import failed: ${error instanceof Error ? `${error.message}\n${error.stack}` : String(error)}`;
    }
    for (const [roomId, { version, eventIds }] of rooms) {
      // IDs a request may name (a forged event_id may not be one: that is validation's answer, not the walk's).
      const ids = [...eventIds].filter(isEventId);
      for (let i = 0; i < Math.max(ids.length, 1); i += 256) {
        const reply = await walk(url, fixture, roomId, ids.slice(i, i + 256));
        const problem = checkWalk(reply, roomId, version, eventIds);
        if (problem !== undefined) return `${problem} (room ${roomId}, status ${reply.status}: ${reply.text.slice(0, 300)})`;
      }
    }
    return undefined;
  } finally {
    for (const roomId of rooms.keys()) await deleteRoom(graph, roomId);
  }
}

export function importerProperty(graph: Graph, url: string, fixture: Fixture): fc.IAsyncPropertyWithHooks<[ForgedFile]> {
  let run = 0;
  const prefix = `${Date.now()}`;
  return fc.asyncProperty(forgedFile, async (file) => {
    run += 1;
    const problem = await checkForgedImport(graph, url, fixture, file, `${prefix}/${run}`);
    if (problem !== undefined) throw new Error(problem);
  });
}

function walk(url: string, fixture: Fixture, roomId: string, latest: string[]): Promise<Reply> {
  return send(
    url,
    {
      origin: 'fuzz1.test',
      signing: 'valid',
      roomPath: encodeURIComponent(roomId),
      body: { kind: 'json', value: { latest_events: latest, limit: 20 } },
      contentType: 'application/json',
      method: 'POST',
    },
    fixture,
  );
}

function checkWalk(reply: Reply, roomId: string, version: string, eventIds: ReadonlySet<string>): string | undefined {
  if (reply.status === 403) return undefined; // a forged file may leave the room without the creator's membership
  if (reply.status !== 200) return `unexpected status ${reply.status}`;
  // PDUs are served byte for byte as stored: a float or an integer beyond 2^53-1 in one was let in at import.
  const number = firstNonCanonicalNumber(reply.text);
  if (number !== undefined) return `a served event holds the number ${number.token} (in ${number.key ?? 'the reply'})`;
  const events = (JSON.parse(reply.text) as { events: Record<string, unknown>[] }).events;
  for (const pdu of events) {
    if (pdu.room_id !== roomId) return `an event of another room: ${String(pdu.room_id)}`;
    const id = safeEventId(pdu, version);
    if (id === undefined || !eventIds.has(id)) return `an event the file did not give this room: ${id}`;
  }
  return undefined;
}

function safeEventId(pdu: Record<string, unknown>, version: string): string | undefined {
  try {
    return computeEventId(pdu, getRoomVersion(version)!);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A permutation fixed by `seed` (Fisher-Yates over a linear congruential sequence). */
function shuffled<T>(items: T[], seed: number): T[] {
  const copy = [...items];
  let state = seed >>> 0;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
