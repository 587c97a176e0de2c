/**
 * When an m.room.redaction applies to the event it names (spec: room versions' "Handling redactions"; Synapse's
 * `check_redaction` in event_auth.py and `_maybe_redact_event_row` in events_worker.py). The redaction algorithm
 * itself (what a redacted event keeps) is src/core/redaction.ts. Pure: the caller supplies the facts of both events.
 *
 * - v1-v2: the authorization rules already allowed the redaction only with the redact level or for an event whose
 *   ID has the redaction's domain, so an accepted redaction applies.
 * - v3+: the authorization rules let any member send one (they cannot see the redacted event, which may not have
 *   arrived). It applies when its sender has the redact level, or else only to an event sent from the same server
 *   as the redaction; a homeserver checks the second when it reads the redacted event.
 * - In every version: a rejected redaction never applies, nor one of an event of another room, and an m.room.create
 *   is never redacted (Synapse ignores such redactions).
 */
import { serverNameOf } from './identifiers';
import { namedLevel, UnreadablePowerLevelError, userPowerLevel } from './power-levels';
import type { RoomVersion } from './room-versions';
import type { StateEvent } from './state-event';

/** What deciding needs of the redaction. */
export interface RedactionFacts {
  readonly room_id: string;
  readonly sender: string;
  readonly rejected: boolean;
  /**
   * v3+: whether its sender had the redact level in the states the authorization rules checked it against (its
   * auth events and the state before it). Not read in v1-v2.
   */
  readonly may_redact_any: boolean;
}

/** What deciding needs of the event it names. */
export interface RedactedFacts {
  readonly room_id: string;
  readonly sender: string;
  readonly type: string;
}

/** 'applied', or why the redaction does not apply (a sentence for analysts). */
export type RedactionOutcome = 'applied' | string;

/**
 * The event an m.room.redaction names: `content.redacts` from v11 (MSC2174 moved it there), the top-level
 * `redacts` before; undefined for another type or when it is not a string. `event` is the event as stored (its
 * redacted form when its content hash did not match, which in v1-v10 has no `redacts`, as Synapse reads it).
 */
export function redactedEventIdOf(event: StateEvent, version: RoomVersion): string | undefined {
  if (event.type !== 'm.room.redaction') return undefined;
  const redacts = version.redactionV11 ? event.content['redacts'] : event.redacts;
  return typeof redacts === 'string' ? redacts : undefined;
}

export function redactionOutcome(redaction: RedactionFacts, target: RedactedFacts, version: RoomVersion): RedactionOutcome {
  if (target.type === 'm.room.create') return 'an m.room.create is never redacted';
  if (redaction.rejected) return 'the redaction is rejected';
  if (redaction.room_id !== target.room_id) return 'the redacted event is in another room';
  if (version.auth.redactionDomainRule || redaction.may_redact_any) return 'applied';
  if (serverNameOf(redaction.sender) === serverNameOf(target.sender)) return 'applied';
  return 'sent from another server than the redacted event, by a sender below the redact level';
}

/**
 * Whether `sender` has the redact level given the power levels and create events in force (Synapse's
 * `check_redaction`: user level >= `redact`, 50 by default; v12 creators always have it).
 */
export function hasRedactLevel(
  sender: string,
  powerLevels: StateEvent | undefined,
  create: StateEvent | undefined,
  version: RoomVersion,
): boolean {
  try {
    return userPowerLevel(sender, powerLevels, create, version) >= namedLevel(powerLevels, 'redact', version);
  } catch (error) {
    // A level that is not a power level in this room version gives no power (the authorization rules read it so).
    if (error instanceof UnreadablePowerLevelError) return false;
    throw error;
  }
}
