/**
 * Power levels as the authorization rules read them (spec: server-server API, "Checks performed on receipt of a
 * PDU", "Definitions"; client-server API, `m.room.power_levels`; room versions' "Deprecated event content
 * schemas"): a user's level, the named levels with their defaults, and the level an event type requires. Room
 * versions 1-9 accept integers written as strings, 1-5 floats too; v12 gives the room creators infinite power.
 */
import { isObject, type JsonObject } from './json';
import type { RoomVersion } from './room-versions';
import type { StateEvent } from './state-event';

/**
 * A power level the rules must read is not one in this room version (`"ban": "fifty"`, or a string in v10+).
 * Synapse fails the check on the `int()` it cannot do; the authorization rules turn this into a rejection.
 */
export class UnreadablePowerLevelError extends Error {
  override readonly name = 'UnreadablePowerLevelError';
}

export type NamedLevel = 'users_default' | 'events_default' | 'state_default' | 'ban' | 'redact' | 'kick' | 'invite';

export const NAMED_LEVELS: readonly NamedLevel[] = [
  'users_default', 'events_default', 'state_default', 'ban', 'redact', 'kick', 'invite',
];

/** The spec's defaults, which hold with or without an m.room.power_levels event. */
const DEFAULT_LEVELS: Readonly<Record<NamedLevel, number>> = {
  users_default: 0, events_default: 0, state_default: 50, ban: 50, redact: 50, kick: 50, invite: 0,
};

/** The creator's level when the room has no m.room.power_levels event (v1-v11). */
const CREATOR_LEVEL_WITHOUT_POWER_LEVELS = 100;

// v1-v9 (spec: "m.room.power_levels events accept values as strings"): a base 10 integer, optionally signed,
// with any leading zeroes and any leading or trailing whitespace.
const INTEGER_STRING = /^\s*[+-]?\d+\s*$/;

/**
 * A power level value as this room version reads it, or undefined when it is none: an integer in every version
 * (within canonical JSON's range), an integer string before v10, and before v6 a finite float truncated at the
 * decimal point.
 */
export function parsePowerLevel(value: unknown, version: RoomVersion): number | undefined {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value;
    return version.auth.floatPowerLevels && Number.isFinite(value) ? Math.trunc(value) + 0 : undefined;
  }
  if (typeof value === 'string' && !version.auth.integerPowerLevels && INTEGER_STRING.test(value)) {
    return Number.parseInt(value.trim(), 10) + 0;
  }
  return undefined;
}

/**
 * The room's creator as rule "the only previous event is an m.room.create and the state_key is the creator"
 * names it: `content.creator` in v1-v10, the create event's sender from v11 (v12 too: additional creators are
 * not meant there).
 */
export function roomCreator(create: StateEvent | undefined, version: RoomVersion): string | undefined {
  if (create === undefined) return undefined;
  if (version.auth.creatorIsCreateSender) return create.sender;
  const creator = create.content['creator'];
  return typeof creator === 'string' ? creator : undefined;
}

/**
 * The room creators: from v12 (MSC4289) the create event's sender and the user IDs of its `additional_creators`,
 * before that the one creator.
 */
export function roomCreators(create: StateEvent | undefined, version: RoomVersion): string[] {
  const creator = roomCreator(create, version);
  if (creator === undefined) return [];
  if (!version.auth.privilegedCreators) return [creator];
  const additional = create?.content['additional_creators'];
  const others = Array.isArray(additional) ? additional.filter((id): id is string => typeof id === 'string') : [];
  return [creator, ...others];
}

/**
 * A user's power level given the power_levels event and the create event in force (no power_levels: the creator(s)
 * 100, others 0 — per version; v12 creators: Infinity). Throws UnreadablePowerLevelError when the level the user
 * has is not a power level in this room version.
 */
export function userPowerLevel(
  userId: string,
  powerLevels: StateEvent | undefined,
  create: StateEvent | undefined,
  version: RoomVersion,
): number {
  if (version.auth.privilegedCreators && roomCreators(create, version).includes(userId)) return Infinity;
  if (powerLevels === undefined) {
    return roomCreator(create, version) === userId ? CREATOR_LEVEL_WITHOUT_POWER_LEVELS : 0;
  }
  const users = levelMap(powerLevels.content, 'users');
  if (users !== undefined && Object.hasOwn(users, userId)) return readLevel(users[userId], `users["${userId}"]`, version);
  return namedLevel(powerLevels, 'users_default', version);
}

/** A named level (spec: "Invite Level, Kick Level, Ban Level, Redact Level", and the three defaults). */
export function namedLevel(powerLevels: StateEvent | undefined, name: NamedLevel, version: RoomVersion): number {
  const value = powerLevels?.content[name];
  return value === undefined ? DEFAULT_LEVELS[name] : readLevel(value, name, version);
}

/**
 * The event type's required power level (spec: "Required Power Level"): its entry in `events`, or else
 * `state_default` for a state event and `events_default` for any other.
 */
export function requiredPowerLevel(event: StateEvent, powerLevels: StateEvent | undefined, version: RoomVersion): number {
  const events = powerLevels === undefined ? undefined : levelMap(powerLevels.content, 'events');
  if (events !== undefined && Object.hasOwn(events, event.type)) {
    return readLevel(events[event.type], `events["${event.type}"]`, version);
  }
  return namedLevel(powerLevels, event.state_key === null ? 'events_default' : 'state_default', version);
}

/** `users`, `events` or `notifications`: undefined when absent; an object that is anything else cannot be read. */
export function levelMap(content: Readonly<JsonObject>, name: 'users' | 'events' | 'notifications'): Readonly<JsonObject> | undefined {
  const value = content[name];
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new UnreadablePowerLevelError(`m.room.power_levels "${name}" is not an object`);
  return value;
}

/** A level the rules need: a power level in this room version, or an UnreadablePowerLevelError naming the field. */
export function readLevel(value: unknown, field: string, version: RoomVersion): number {
  const level = parsePowerLevel(value, version);
  if (level === undefined) {
    throw new UnreadablePowerLevelError(
      `m.room.power_levels ${field} is ${JSON.stringify(value)}, not a power level in room version ${version.id}`,
    );
  }
  return level;
}
