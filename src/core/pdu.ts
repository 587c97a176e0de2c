/**
 * Reading a federation PDU as it arrives (spec: room versions' "Event format"), into the fields the room graph
 * stores. Pure: the caller supplies the room version and decides what to do with the problems reported.
 */
import { computeEventId, contentHashMatches } from './event-hashes';
import { CanonicalJsonError } from './canonical-json';
import { isEventId } from './identifiers';
import { isObject } from './json';
import { firstNonCanonicalNumber } from './json-numbers';
import { redactEvent } from './redaction';
import type { RoomVersion } from './room-versions';
import type { StateEvent } from './state-event';

export interface StoredEvent {
  readonly event_id: string;
  readonly room_id: string;
  readonly type: string;
  readonly state_key: string | null;
  readonly sender: string;
  readonly origin_server_ts: number;
  readonly depth: number;
  readonly prev_events: readonly string[];
  readonly auth_events: readonly string[];
  /**
   * The PDU as it arrived, less `unsigned` (an `age` there goes stale: a PDU carrying it is re-encoded without it,
   * which changes nothing signed), or its redacted form when its content hash did not match.
   */
  readonly pdu: string;
  readonly content_hash_ok: boolean;
}

export type PduResult = { ok: true; event: StoredEvent } | { ok: false; reason: string };

/**
 * Synapse's limits on receipt (`_sanity_check_event` in synapse/handlers/federation_event.py): an event with more
 * prev_events or auth_events than these is refused, as it "could cause a huge state resolution or cascade of event
 * fetches". The lists are counted as written, duplicates included, as Synapse counts them.
 */
export const MAX_PREV_EVENTS = 20;
export const MAX_AUTH_EVENTS = 10;

export type RoomIdResult = { ok: true; roomId: string } | { ok: false; reason: string };

/**
 * The room a PDU belongs to: its `room_id`, or for a v12 create event the room ID derived from its event ID (even
 * when it carries a room_id, which readPdu then refuses: the carried one must not name the room). A v12 create
 * event with no canonical JSON form has no event ID, hence no room: a reason, never a throw.
 */
export function roomIdOfPdu(pdu: Record<string, unknown>, version: RoomVersion | undefined): RoomIdResult {
  if (version?.roomIdIsCreateEventId && isCreateEvent(pdu)) {
    try {
      const eventId = computeEventId(pdu, version)!;
      return { ok: true, roomId: `!${eventId.slice(1)}` };
    } catch (error) {
      if (error instanceof CanonicalJsonError) return fail(`the event has no canonical JSON form: ${error.message}`);
      throw error;
    }
  }
  if (typeof pdu.room_id === 'string') return { ok: true, roomId: pdu.room_id };
  return fail('room_id is missing or not a string');
}

/**
 * Why a PDU's numbers, as written in `text`, are refused, or undefined. `depth` must be an integer in every room
 * version (Synapse's `event_from_pdu_json`: "Depth not an integer"); from v6 every number must be an integer in
 * the canonical JSON range (`validate_canonicaljson`). Room versions 1-5 allow other numbers, but their canonical
 * form as the sender hashed it (Python writes `1.0`, `1e+20`) is lost once parsed, so the event ID and hashes we
 * would compute differ from the sender's: such an event is refused too rather than stored under a wrong ID.
 * `unsigned` is not stored, so its numbers do not count (Synapse strips it before validating, too).
 */
export function numbersProblem(text: string, version: RoomVersion): string | undefined {
  const found = firstNonCanonicalNumber(text, 'unsigned');
  if (found === undefined) return undefined;
  const where = found.key === undefined ? 'the event' : found.key;
  if (found.key === 'depth' && found.problem === 'not an integer') {
    return `depth is ${found.token}, not an integer (refused in every room version, as Synapse does)`;
  }
  const rule = version.strictCanonicalJson
    ? `room version ${version.id} allows only integers in [-(2^53)+1, 2^53-1], written without fraction or exponent`
    : `room version ${version.id} allows it, but its canonical JSON as the sender hashed it cannot be reproduced, so the event ID and hashes would be wrong`;
  return `${where} holds the number ${found.token} (${found.problem === 'out of range' ? 'beyond 2^53-1' : 'not an integer'}): ${rule}`;
}

/** Why a PDU's prev_events or auth_events are too long to accept, or undefined (checked before they are read). */
function listSizeProblem(pdu: Record<string, unknown>): string | undefined {
  for (const [field, max] of [['prev_events', MAX_PREV_EVENTS], ['auth_events', MAX_AUTH_EVENTS]] as const) {
    const list = pdu[field];
    if (Array.isArray(list) && list.length > max) return `${field} lists ${list.length} events; at most ${max} are accepted (as Synapse)`;
  }
  return undefined;
}

export interface ReadPduOptions {
  /**
   * A PDU read again from the graph, which accepted it when it arrived: the checks on receipt (numbers as written,
   * list sizes) are not made again, so an event stored before a check existed stays readable.
   */
  readonly stored?: boolean;
}

export function readPdu(text: string, pdu: Record<string, unknown>, version: RoomVersion, options: ReadPduOptions = {}): PduResult {
  const onReceipt = options.stored !== true;
  // v12 auth rules (MSC4291): "If it has a room_id, reject" for m.room.create; its room ID is its event ID.
  if (version.roomIdIsCreateEventId && isCreateEvent(pdu) && 'room_id' in pdu) {
    return fail(`an m.room.create of room version ${version.id} must not have a room_id`);
  }
  const room = roomIdOfPdu(pdu, version);
  if (!room.ok) return room;
  const roomId = room.roomId;
  for (const field of ['type', 'sender'] as const) {
    if (typeof pdu[field] !== 'string') return fail(`${field} is missing or not a string`);
  }
  if (pdu.state_key !== undefined && typeof pdu.state_key !== 'string') return fail('state_key is not a string');
  for (const field of ['origin_server_ts', 'depth'] as const) {
    const value = pdu[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      return fail(`${field} is missing or not a non-negative integer`);
    }
  }
  if (!isObject(pdu.content)) return fail('content is missing or not an object');
  // The numbers as written, once the fields have their types (so `depth: 1.5` is reported as the field it is).
  const receipt = onReceipt ? (numbersProblem(text, version) ?? listSizeProblem(pdu)) : undefined;
  if (receipt !== undefined) return fail(receipt);
  const prevEvents = references(pdu.prev_events, version);
  if (prevEvents === undefined) return fail(`prev_events is not a list of ${referenceShape(version)}`);
  const authEvents = references(pdu.auth_events, version);
  if (authEvents === undefined) return fail(`auth_events is not a list of ${referenceShape(version)}`);
  if (version.eventIdFormat === 'carried' && !isEventId(pdu.event_id)) return fail('event_id is missing or not an event ID');

  // Hashes are computed over canonical JSON, which some JSON has no form in (a lone surrogate, a float, an integer
  // beyond 2^53 anywhere in the event): such an event can have no ID, and is refused like any other bad line.
  let eventId: string;
  let hashOk: boolean;
  try {
    eventId = computeEventId(pdu, version)!;
    hashOk = contentHashMatches(pdu);
  } catch (error) {
    if (error instanceof CanonicalJsonError) return fail(`the event has no canonical JSON form: ${error.message}`);
    throw error;
  }
  return {
    ok: true,
    event: {
      event_id: eventId,
      room_id: roomId,
      type: pdu.type as string,
      state_key: typeof pdu.state_key === 'string' ? pdu.state_key : null,
      sender: pdu.sender as string,
      origin_server_ts: pdu.origin_server_ts as number,
      depth: pdu.depth as number,
      prev_events: prevEvents,
      auth_events: authEvents,
      // Synapse stores an event whose content hash does not match in its redacted form; so do we.
      pdu: hashOk ? withoutUnsigned(text, pdu) : JSON.stringify(redactEvent(pdu, version)),
      content_hash_ok: hashOk,
    },
  };
}

function withoutUnsigned(text: string, pdu: Record<string, unknown>): string {
  if (!('unsigned' in pdu)) return text;
  const { unsigned: _unsigned, ...rest } = pdu;
  return JSON.stringify(rest);
}

function isCreateEvent(pdu: Record<string, unknown>): boolean {
  return pdu.type === 'm.room.create' && pdu.state_key === '';
}

function references(value: unknown, version: RoomVersion): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  // A Set keeps the first occurrence of each ID in order, in time linear in the list (a list search per entry
  // took 65 s over 20,000 prev_events).
  const ids = new Set<string>();
  for (const entry of value) {
    const id = version.referencesAreHashPairs ? (isHashPair(entry) ? entry[0] : undefined) : entry;
    if (!isEventId(id)) return undefined;
    ids.add(id);
  }
  return [...ids];
}

/** v1/v2: `[event_id, {sha256: ...}]`, exactly two elements, as Synapse unpacks them (`for e, _ in prev_events`). */
function isHashPair(entry: unknown): entry is [unknown, Record<string, unknown>] {
  return Array.isArray(entry) && entry.length === 2 && isObject(entry[1]);
}

function referenceShape(version: RoomVersion): string {
  return version.referencesAreHashPairs ? '[event_id, {sha256}] pairs' : 'event IDs';
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

/**
 * The event as the authorization rules and state resolution read it. `pdu` is the parsed PDU; when its content
 * hash did not match, the stored (redacted) form is what counts, as in Synapse.
 */
export function stateEventOf(event: StoredEvent, pdu: Record<string, unknown>): StateEvent {
  const form = event.content_hash_ok ? pdu : (JSON.parse(event.pdu) as Record<string, unknown>);
  return {
    event_id: event.event_id,
    room_id: event.room_id,
    type: event.type,
    state_key: event.state_key,
    sender: event.sender,
    content: isObject(form.content) ? form.content : {},
    depth: event.depth,
    origin_server_ts: event.origin_server_ts,
    prev_events: event.prev_events,
    auth_events: event.auth_events,
    ...(typeof form.redacts === 'string' ? { redacts: form.redacts } : {}),
  };
}
