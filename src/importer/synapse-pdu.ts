/**
 * One row of a Synapse database (event_json, rooms, rejections, redactions) turned into the PDU Synapse sends over
 * federation for that event: what its `get_pdu_json(time_now)` gives, as /get_missing_events, /event and /backfill
 * serve it. Pure: the caller reads the rows and supplies the clock.
 *
 * What a federation peer sees, and so what this gives:
 * - The event JSON as Synapse stored it: `event_id` only in room versions 1 and 2 (format 1), `room_id` absent from a
 *   v12 create event.
 * - `unsigned` holds only what a receiving homeserver keeps (Synapse's `_strip_unsigned_values`): `age`, from the
 *   stored `age_ts` and the clock, and for m.room.member events `invite_room_state` / `knock_room_state`. Synapse's
 *   own bookkeeping (`replaces_state`, `prev_content`, `redacted_because`, ...) is dropped.
 * - A redacted event is sent pruned (Synapse's `_maybe_redact_event_row`): the room version's redaction algorithm,
 *   same event ID, hashes and signatures; its content hash no longer matches, as for any peer receiving it.
 *   Redactions of m.room.create are ignored, as Synapse ignores them.
 * - A rejected event is given too, although Synapse never serves it (it loads events with `allow_rejected=False`):
 *   it stays in the DAG that Synapse's walk goes through, and the importer decides rejection by the authorization
 *   rules itself. Leaving it out would cut the DAG and leave the events after it without a state.
 * - Not given: out-of-band membership events (invites, knocks and their rejections received outside the room, which
 *   Synapse stores without the room's DAG and never serves for the room), and rows Synapse itself refuses to load
 *   (unparseable JSON, unknown room version, a format that is not the room version's, an event ID that does not
 *   match the JSON).
 */
import { computeEventId } from '../core/event-hashes';
import { isObject, type JsonObject } from '../core/json';
import { redactEvent } from '../core/redaction';
import { getRoomVersion, type RoomVersion } from '../core/room-versions';

/** An event as Synapse's `_fetch_event_rows` reads it. */
export interface SynapseEventRow {
  readonly event_id: string;
  readonly room_id: string;
  /** `event_json.json`. */
  readonly json: string;
  /** `event_json.internal_metadata`. */
  readonly internal_metadata: string;
  /** `event_json.format_version`: null for events stored before Synapse had formats (format 1). */
  readonly format_version: number | null;
  /** `rooms.room_version`: null when the room has no row (old out-of-band invites). */
  readonly room_version: string | null;
  /** `rejections.reason`. */
  readonly rejected_reason: string | null;
}

/** A redaction that names the event (`redactions`, or an MSC4293 ban that redacts the sender's events). */
export interface SynapseRedaction {
  /** The redacting event. */
  readonly event_id: string;
  /** `redactions.recheck` false: Synapse checked it when the redaction arrived, so it applies as it stands. */
  readonly confirmed: boolean;
  /** The redacting event as stored, for an unconfirmed redaction; undefined when Synapse does not have it. */
  readonly redaction?: {
    readonly room_id: string;
    readonly sender: string;
    readonly rejected: boolean;
    /** Its internal metadata's `recheck_redaction`: the sender's server must be the redacted event's. */
    readonly recheck_redaction: boolean;
  };
}

export type SynapsePduResult =
  | { readonly ok: true; readonly pdu: JsonObject; readonly redacted: boolean; readonly rejected: boolean }
  | { readonly ok: false; readonly reason: string };

/** Synapse's event format versions (`EventFormatVersions`), by the room version they came with. */
export function eventFormatOf(version: RoomVersion): number {
  const n = Number(version.id);
  if (n <= 2) return 1;
  if (n === 3) return 2;
  return n <= 11 ? 3 : 4;
}

export function synapseFederationPdu(row: SynapseEventRow, redactions: readonly SynapseRedaction[], now: number): SynapsePduResult {
  const event = parseObject(row.json);
  if (event === undefined) return fail('event_json.json is not a JSON object');
  const metadata = parseObject(row.internal_metadata);
  if (metadata === undefined) return fail('event_json.internal_metadata is not a JSON object');
  if (metadata.out_of_band_membership === true) {
    return fail('an out-of-band membership event (received outside the room), which Synapse does not serve for the room');
  }

  const format = row.format_version ?? 1;
  const versionId = row.room_version ?? versionOfRoomlessMember(event, format);
  if (versionId === undefined) return fail(`room ${row.room_id} has no row in the rooms table, so its room version is unknown`);
  const version = getRoomVersion(versionId);
  if (version === undefined) return fail(`room version "${versionId}" is not supported`);
  if (eventFormatOf(version) !== format) {
    return fail(`event format ${format} is not room version ${version.id}'s (${eventFormatOf(version)})`);
  }
  const eventId = eventIdOf(event, version);
  if (eventId !== row.event_id) return fail(`its JSON gives the event ID ${eventId ?? '(none)'}, not the one stored`);

  const redacted = isRedacted(event, row.room_id, redactions);
  const { unsigned, ...signed } = event;
  const pdu: JsonObject = redacted ? redactEvent(signed, version) : signed;
  pdu.unsigned = federationUnsigned(unsigned, redacted ? undefined : event.type, now);
  return { ok: true, pdu, redacted, rejected: row.rejected_reason !== null };
}

/**
 * Synapse's `_maybe_redact_event_row`: a confirmed redaction applies; an unconfirmed one applies when Synapse has
 * the redacting event, accepted and in the same room, and (when it must be rechecked) sent from the redacted
 * event's server.
 */
export function isRedacted(event: JsonObject, roomId: string, redactions: readonly SynapseRedaction[]): boolean {
  if (event.type === 'm.room.create') return false;
  if (redactions.some((redaction) => redaction.confirmed)) return true;
  return redactions.some(({ redaction }) => {
    if (redaction === undefined || redaction.rejected || redaction.room_id !== roomId) return false;
    return !redaction.recheck_redaction || domainOf(redaction.sender) === domainOf(event.sender);
  });
}

/** What survives of `unsigned` on the way to a peer: `age` from `age_ts`, and a member event's stripped state. */
function federationUnsigned(unsigned: unknown, type: unknown, now: number): JsonObject {
  const stored = isObject(unsigned) ? unsigned : {};
  const sent: JsonObject = {};
  if (typeof stored.age_ts === 'number') sent.age = now - stored.age_ts;
  if (type === 'm.room.member') {
    for (const key of ['invite_room_state', 'knock_room_state']) if (key in stored) sent[key] = stored[key];
  }
  return sent;
}

/**
 * Synapse's guess for an old out-of-band member event whose room has no row: the oldest room version of its format
 * (they share the redaction rules that matter then).
 */
function versionOfRoomlessMember(event: JsonObject, format: number): string | undefined {
  if (event.type !== 'm.room.member') return undefined;
  return format === 1 ? '1' : format === 2 ? '3' : '5';
}

function eventIdOf(event: JsonObject, version: RoomVersion): string | undefined {
  try {
    return computeEventId(event, version);
  } catch {
    return undefined; // not canonical JSON (a float, an integer out of range): no reference hash
  }
}

function domainOf(userId: unknown): string | undefined {
  if (typeof userId !== 'string') return undefined;
  const colon = userId.indexOf(':');
  return colon < 0 ? undefined : userId.slice(colon + 1);
}

function parseObject(text: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function fail(reason: string): SynapsePduResult {
  return { ok: false, reason };
}
