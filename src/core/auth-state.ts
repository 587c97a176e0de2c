/**
 * The room state as the authorization rules read it: an injected (type, state_key) lookup, with the create and
 * power levels events in force and the questions the rules ask of them ("the sender's current membership state",
 * "the sender's power level", "the invite level", "the join_rule").
 */
import { namedLevel, userPowerLevel, type NamedLevel } from './power-levels';
import type { RoomVersion } from './room-versions';
import type { StateEvent } from './state-event';

export type AuthStateLookup = (type: string, stateKey: string) => StateEvent | undefined;

export interface AuthState {
  readonly version: RoomVersion;
  readonly create: StateEvent;
  /** The m.room.power_levels event in force, the one an m.room.power_levels event replaces. */
  readonly powerLevels: StateEvent | undefined;
  get: AuthStateLookup;
  /** The user's `membership`, or undefined when they have no m.room.member event (never in the room). */
  membership(userId: string): unknown;
  powerLevel(userId: string): number;
  level(name: NamedLevel): number;
  /**
   * The `join_rule`: `invite` when there is no m.room.join_rules event or it has no `join_rule`, as Synapse and
   * ruma read it (the spec names no default; the rooms it matters for have an invite and no join rules yet).
   */
  joinRule(): unknown;
}

export function authStateOf(get: AuthStateLookup, create: StateEvent, version: RoomVersion): AuthState {
  const powerLevels = get('m.room.power_levels', '');
  return {
    version,
    create,
    powerLevels,
    get,
    membership: (userId) => get('m.room.member', userId)?.content['membership'],
    powerLevel: (userId) => userPowerLevel(userId, powerLevels, create, version),
    level: (name) => namedLevel(powerLevels, name, version),
    joinRule: () => get('m.room.join_rules', '')?.content['join_rule'] ?? 'invite',
  };
}
