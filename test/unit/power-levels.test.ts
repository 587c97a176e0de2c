/**
 * Reading power levels (src/core/power-levels.ts): the value formats each room version accepts (spec: "m.room.power_levels
 * events accept values as strings" v1-v9, "... as floats" v1-v5), a user's level with and without power levels, the
 * creators of each version (v12: infinitely powerful, MSC4289), and the named and required levels with their defaults.
 */
import {
  namedLevel,
  parsePowerLevel,
  requiredPowerLevel,
  roomCreators,
  UnreadablePowerLevelError,
  userPowerLevel,
} from '../../src/core/power-levels';
import { getRoomVersion } from '../../src/core/room-versions';
import type { StateEvent } from '../../src/core/state-event';

const ALICE = '@alice:a.example';
const BOB = '@bob:b.example';
const CAROL = '@carol:c.example';

const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
const v = (id: string) => getRoomVersion(id)!;

function state(type: string, sender: string, content: Record<string, unknown>, stateKey: string | null = ''): StateEvent {
  return {
    event_id: `$${type}`, room_id: '!room:a.example', type, state_key: stateKey, sender, content,
    depth: 1, origin_server_ts: 0, prev_events: [], auth_events: [],
  };
}

describe('parsePowerLevel', () => {
  const rows: Array<[value: unknown, versions: string[], expected: number | undefined]> = [
    [50, range(1, 12), 50],
    [-10, range(1, 12), -10],
    [0, range(1, 12), 0],
    [2 ** 53 - 1, range(1, 12), 2 ** 53 - 1],
    ['50', range(1, 9), 50],
    ['50', range(10, 12), undefined],
    ['000100', range(1, 9), 100],
    [' +100 ', range(1, 9), 100],
    ['\t-100\n', range(1, 9), -100],
    ['-0', range(1, 9), 0],
    ['1.5', range(1, 12), undefined],
    ['1e3', range(1, 12), undefined],
    ['+-1', range(1, 12), undefined],
    ['', range(1, 12), undefined],
    ['fifty', range(1, 12), undefined],
    [50.57, range(1, 5), 50],
    [-50.57, range(1, 5), -50],
    [5.114698e4, range(1, 5), 51146],
    [50.57, range(6, 12), undefined],
    [2 ** 60, range(1, 5), 2 ** 60],
    [2 ** 60, range(6, 12), undefined],
    [Infinity, range(1, 12), undefined],
    [NaN, range(1, 12), undefined],
    [true, range(1, 12), undefined],
    [null, range(1, 12), undefined],
    [[50], range(1, 12), undefined],
    [{ level: 50 }, range(1, 12), undefined],
  ];
  it.each(rows.flatMap(([value, versions, expected]) => versions.map((id) => [String(JSON.stringify(value) ?? value), id, value, expected] as const)))(
    '%s in v%s',
    (_name, id, value, expected) => {
      expect(parsePowerLevel(value, v(id))).toBe(expected);
    },
  );
});

describe('roomCreators', () => {
  const create = state('m.room.create', ALICE, { creator: BOB, additional_creators: [CAROL, 5] });
  it.each([
    ...range(1, 10).map((id) => [id, [BOB]] as const),
    ['11', [ALICE]] as const,
    ['12', [ALICE, CAROL]] as const,
  ])('v%s', (id, expected) => {
    expect(roomCreators(create, v(id))).toEqual(expected);
  });

  it('no create event, no creators', () => {
    expect(roomCreators(undefined, v('12'))).toEqual([]);
  });
});

describe('userPowerLevel', () => {
  const create = (id: string, content: Record<string, unknown> = {}) =>
    state('m.room.create', ALICE, { ...(v(id).auth.creatorIsCreateSender ? {} : { creator: ALICE }), ...content });
  const powerLevels = (content: Record<string, unknown>) => state('m.room.power_levels', ALICE, content);

  it.each(range(1, 11))('v%s: without power levels the creator has 100 and others 0', (id) => {
    expect(userPowerLevel(ALICE, undefined, create(id), v(id))).toBe(100);
    expect(userPowerLevel(BOB, undefined, create(id), v(id))).toBe(0);
  });

  it.each(range(1, 10))('v%s: the creator is content.creator, not the sender', (id) => {
    const byAlice = state('m.room.create', ALICE, { creator: BOB });
    expect(userPowerLevel(BOB, undefined, byAlice, v(id))).toBe(100);
    expect(userPowerLevel(ALICE, undefined, byAlice, v(id))).toBe(0);
  });

  it('v11: the creator is the sender, content.creator means nothing', () => {
    const byAlice = state('m.room.create', ALICE, { creator: BOB });
    expect(userPowerLevel(ALICE, undefined, byAlice, v('11'))).toBe(100);
    expect(userPowerLevel(BOB, undefined, byAlice, v('11'))).toBe(0);
  });

  it('v12: the creators have infinite power, with or without power levels', () => {
    const c = create('12', { additional_creators: [BOB] });
    expect(userPowerLevel(ALICE, undefined, c, v('12'))).toBe(Infinity);
    expect(userPowerLevel(BOB, undefined, c, v('12'))).toBe(Infinity);
    expect(userPowerLevel(CAROL, undefined, c, v('12'))).toBe(0);
    const levels = powerLevels({ users: { [BOB]: 10, [CAROL]: 20 }, users_default: 5 });
    expect(userPowerLevel(ALICE, levels, c, v('12'))).toBe(Infinity);
    expect(userPowerLevel(BOB, levels, c, v('12'))).toBe(Infinity);
    expect(userPowerLevel(CAROL, levels, c, v('12'))).toBe(20);
  });

  it.each(range(1, 11))('v%s: with power levels the creator has only what they list', (id) => {
    expect(userPowerLevel(ALICE, powerLevels({ users: { [BOB]: 50 } }), create(id), v(id))).toBe(0);
  });

  it.each(range(1, 12))('v%s: users, then users_default, then 0', (id) => {
    expect(userPowerLevel(BOB, powerLevels({ users: { [BOB]: 75 }, users_default: 5 }), create(id), v(id))).toBe(75);
    expect(userPowerLevel(CAROL, powerLevels({ users: { [BOB]: 75 }, users_default: 5 }), create(id), v(id))).toBe(5);
    expect(userPowerLevel(CAROL, powerLevels({}), create(id), v(id))).toBe(0);
  });

  it('an inherited property of `users` is no entry', () => {
    expect(userPowerLevel('toString', powerLevels({ users: {} }), create('10'), v('10'))).toBe(0);
  });

  it.each([
    ['9', { users: { [BOB]: '75' } }, 75],
    ['5', { users: { [BOB]: 75.9 } }, 75],
    ['9', { users_default: ' 7 ' }, 7],
  ])('v%s: %j', (id, content, expected) => {
    expect(userPowerLevel(BOB, powerLevels(content), create(id), v(id))).toBe(expected);
  });

  it.each([
    ['10', { users: { [BOB]: '75' } }, /users\["@bob:b.example"\] is "75", not a power level in room version 10/],
    ['9', { users_default: 'x' }, /users_default is "x"/],
    ['9', { users: 'everyone' }, /"users" is not an object/],
  ])('v%s: %j cannot be read', (id, content, message) => {
    expect(() => userPowerLevel(BOB, powerLevels(content), create(id), v(id))).toThrow(UnreadablePowerLevelError);
    expect(() => userPowerLevel(BOB, powerLevels(content), create(id), v(id))).toThrow(message);
  });
});

describe('namedLevel and requiredPowerLevel', () => {
  const levels = state('m.room.power_levels', ALICE, { ban: 60, events: { 'm.room.name': 70 }, state_default: 40, events_default: 10 });

  it.each([
    ['users_default', 0], ['events_default', 0], ['state_default', 50], ['ban', 50], ['kick', 50], ['redact', 50], ['invite', 0],
  ] as const)('the spec default of %s is %d, with or without power levels', (name, expected) => {
    expect(namedLevel(undefined, name, v('10'))).toBe(expected);
    expect(namedLevel(state('m.room.power_levels', ALICE, {}), name, v('10'))).toBe(expected);
  });

  it('a named level is read from the event', () => {
    expect(namedLevel(levels, 'ban', v('10'))).toBe(60);
  });

  it.each([
    ['an event type listed in events', state('m.room.name', BOB, {}), 70],
    ['a state event not listed: state_default', state('m.room.topic', BOB, {}), 40],
    ['a message: events_default', state('m.room.message', BOB, {}, null), 10],
    ['a state event with a non-empty state_key: state_default', state('m.custom', BOB, {}, 'x'), 40],
  ])('%s', (_name, event, expected) => {
    expect(requiredPowerLevel(event, levels, v('10'))).toBe(expected);
  });

  it('without power levels: 50 for state, 0 for messages', () => {
    expect(requiredPowerLevel(state('m.room.topic', BOB, {}), undefined, v('10'))).toBe(50);
    expect(requiredPowerLevel(state('m.room.message', BOB, {}, null), undefined, v('10'))).toBe(0);
  });
});
