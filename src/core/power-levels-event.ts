/**
 * The authorization rules for m.room.power_levels events (spec: room versions' authorization rules, "If type is
 * m.room.power_levels"): the new content must be well formed for the room version, and a sender may neither grant
 * a level above their own nor change a level (or another user's level) that is above theirs.
 */
import { ALLOWED, rejected, type AuthResult } from './auth-result';
import type { AuthState } from './auth-state';
import { isObject, type JsonObject } from './json';
import { levelMap, NAMED_LEVELS, parsePowerLevel, readLevel, roomCreators } from './power-levels';
import type { RoomVersion } from './room-versions';
import type { StateEvent } from './state-event';
import { isValidUserId } from './user-id';

export function authorizePowerLevels(event: StateEvent, state: AuthState): AuthResult {
  const { version } = state;
  const malformed = malformedContent(event.content, version);
  if (malformed !== undefined) return rejected(malformed);
  if (version.auth.privilegedCreators) {
    // v12 (MSC4289): creators have infinite power, which no entry in `users` may claim to change.
    const users = event.content['users'];
    const listed = roomCreators(state.create, version).find((creator) => isObject(users) && Object.hasOwn(users, creator));
    if (listed !== undefined) return rejected(`m.room.power_levels users must not list the room creator ${listed}`);
  }
  const previous = state.powerLevels;
  if (previous === undefined) return ALLOWED;

  const senderLevel = state.powerLevel(event.sender);
  const changes: LevelChange[] = NAMED_LEVELS.map((name) => ({
    field: name, old: previous.content[name], new: event.content[name],
  }));
  const maps = version.auth.notificationsPowerLevels ? (['events', 'notifications'] as const) : (['events'] as const);
  for (const map of [...maps, 'users' as const]) changes.push(...entryChanges(map, previous.content, event.content));

  for (const change of changes) {
    const oldLevel = change.old === undefined ? undefined : readLevel(change.old, change.field, version);
    const newLevel = change.new === undefined ? undefined : readLevel(change.new, change.field, version);
    if (oldLevel === newLevel) continue;
    // Another user's entry must be below the sender's level to change; the sender's own entry is their level.
    const othersEntry = change.user !== undefined && change.user !== event.sender;
    if (oldLevel !== undefined && (othersEntry ? oldLevel >= senderLevel : oldLevel > senderLevel)) {
      return rejected(
        `sender ${event.sender} has power level ${senderLevel}, so cannot change ${change.field} from ${oldLevel}`,
      );
    }
    if (newLevel !== undefined && newLevel > senderLevel) {
      return rejected(
        `sender ${event.sender} has power level ${senderLevel}, so cannot set ${change.field} to ${newLevel}`,
      );
    }
  }
  return ALLOWED;
}

interface LevelChange {
  /** How a reason names the level: `ban`, `events["m.room.name"]`, `users["@a:b"]`. */
  readonly field: string;
  readonly old: unknown;
  readonly new: unknown;
  /** For an entry of `users`, whose level it is. */
  readonly user?: string;
}

function entryChanges(map: 'events' | 'notifications' | 'users', previous: Readonly<JsonObject>, next: Readonly<JsonObject>): LevelChange[] {
  const before = levelMap(previous, map) ?? {};
  const after = levelMap(next, map) ?? {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].map((key) => ({
    field: `${map}[${JSON.stringify(key)}]`,
    old: Object.hasOwn(before, key) ? before[key] : undefined,
    new: Object.hasOwn(after, key) ? after[key] : undefined,
    ...(map === 'users' ? { user: key } : {}),
  }));
}

/**
 * Why the content is not a power levels content this room version accepts, or undefined: `users` must map user IDs
 * to levels in every version; from v10 every level, in `events` and `notifications` too, must be an integer.
 */
function malformedContent(content: Readonly<JsonObject>, version: RoomVersion): string | undefined {
  if (version.auth.integerPowerLevels) {
    const named = NAMED_LEVELS.find((name) => content[name] !== undefined && !Number.isSafeInteger(content[name]));
    if (named !== undefined) return `m.room.power_levels ${named} is ${JSON.stringify(content[named])}, not an integer`;
    for (const map of ['events', 'notifications'] as const) {
      const value = content[map];
      if (value === undefined) continue;
      if (!isObject(value)) return `m.room.power_levels ${map} is not an object`;
      const key = Object.keys(value).find((k) => !Number.isSafeInteger(value[k]));
      if (key !== undefined) return `m.room.power_levels ${map}[${JSON.stringify(key)}] is ${JSON.stringify(value[key])}, not an integer`;
    }
  }
  const users = content['users'];
  if (users === undefined) return undefined;
  if (!isObject(users)) return 'm.room.power_levels users is not an object';
  for (const [userId, level] of Object.entries(users)) {
    if (!isValidUserId(userId)) return `m.room.power_levels users has a key ${JSON.stringify(userId)} that is not a user ID`;
    if (parsePowerLevel(level, version) === undefined) {
      return `m.room.power_levels users[${JSON.stringify(userId)}] is ${JSON.stringify(level)}, not a power level in room version ${version.id}`;
    }
  }
  return undefined;
}
