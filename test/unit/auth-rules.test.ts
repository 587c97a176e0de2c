/**
 * The authorization rules of room versions 1-12 (src/core/auth-rules.ts and the modules it calls), one row per
 * rule of the spec's room version pages and one per version where the rule differs. Each row builds a small room
 * state by hand, authorizes one event against it and names the verdict: allowed, or rejected for the reason given.
 */
import { authorize, authorizeByAuthEvents, type AuthResult } from '../../src/core/auth-rules';
import { serverNameOf } from '../../src/core/identifiers';
import { getRoomVersion, type RoomVersion } from '../../src/core/room-versions';
import { signingKeyFromSeed, signJson } from '../../src/core/signing';
import { stateKey, type StateEvent, type StateKey } from '../../src/core/state-event';

const ALICE = '@alice:a.example'; // the creator: 100, or in v12 infinitely powerful
const BOB = '@bob:b.example'; // a moderator: 50
const CAROL = '@carol:c.example'; // a member: users_default 0
const DAVE = '@dave:d.example'; // never in the room
const EVE = '@eve:e.example'; // banned

const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
const ALL = range(1, 12);

interface RoomOptions {
  /** Merged over the create content: `{creator: ALICE}` in v1-v10, and `room_version`. */
  readonly create?: Record<string, unknown>;
  readonly createSender?: string;
  /** Merged over the power levels content `{users: {ALICE: 100 (not in v12), BOB: 50}}`; null: no such event. */
  readonly levels?: Record<string, unknown> | null;
  /** Merged over the users of the power levels. */
  readonly users?: Record<string, unknown>;
  /** Merged over ALICE, BOB, CAROL joined and EVE banned. */
  readonly members?: Record<string, string>;
  /** The join rule of the m.room.join_rules event (public by default); null: no such event. */
  readonly joinRule?: string | null;
  /** Further state events, built once the room exists. */
  readonly extra?: (room: Room) => StateEvent[];
}

interface Room {
  readonly version: RoomVersion;
  readonly roomId: string;
  readonly create: StateEvent;
  readonly state: Map<StateKey, StateEvent>;
}

let counter = 0;

/** Content as the wire carries it: JSON, so a field set to undefined is absent. */
const json = (content: Record<string, unknown>): Record<string, unknown> => JSON.parse(JSON.stringify(content));

/** An event of the room; v1/v2 event IDs carry the sender's domain, as those versions' IDs do. */
function ev(room: Room, type: string, key: string | null, sender: string, content: Record<string, unknown>, extra: Partial<StateEvent> = {}): StateEvent {
  counter += 1;
  return {
    event_id: `$e${counter}:${serverNameOf(sender) ?? 'unknown'}`,
    room_id: room.roomId,
    type,
    state_key: key,
    sender,
    content: json(content),
    depth: 10,
    origin_server_ts: counter,
    prev_events: ['$previous:a.example'],
    auth_events: [],
    ...extra,
  };
}

function createEvent(versionId: string, content: Record<string, unknown> = {}, sender = ALICE, extra: Partial<StateEvent> = {}): StateEvent {
  const version = getRoomVersion(versionId)!;
  const eventId = version.roomIdIsCreateEventId ? '$create-event-reference-hash' : '$create:a.example';
  return {
    event_id: eventId,
    room_id: version.roomIdIsCreateEventId ? `!${eventId.slice(1)}` : '!room:a.example',
    type: 'm.room.create',
    state_key: '',
    sender,
    content: json({ ...(version.auth.creatorIsCreateSender ? {} : { creator: sender }), room_version: versionId, ...content }),
    depth: 1,
    origin_server_ts: 0,
    prev_events: [],
    auth_events: [],
    ...extra,
  };
}

function room(versionId: string, options: RoomOptions = {}): Room {
  const version = getRoomVersion(versionId)!;
  const create = createEvent(versionId, options.create, options.createSender);
  const r: Room = { version, roomId: create.room_id, create, state: new Map() };
  const put = (event: StateEvent) => r.state.set(stateKey(event.type, event.state_key!), event);
  put(create);
  const members = { [ALICE]: 'join', [BOB]: 'join', [CAROL]: 'join', [EVE]: 'ban', ...options.members };
  for (const [user, membership] of Object.entries(members)) put(ev(r, 'm.room.member', user, user, { membership }));
  if (options.levels !== null) {
    const users = { ...(version.auth.privilegedCreators ? {} : { [ALICE]: 100 }), [BOB]: 50, ...options.users };
    put(ev(r, 'm.room.power_levels', '', ALICE, { users, ...options.levels }));
  }
  if (options.joinRule !== null) put(ev(r, 'm.room.join_rules', '', ALICE, { join_rule: options.joinRule ?? 'public' }));
  for (const event of options.extra?.(r) ?? []) put(event);
  return r;
}

function authorizeIn(r: Room, event: StateEvent): AuthResult {
  return authorize(event, (type, key) => r.state.get(stateKey(type, key)), r.version);
}

function expectVerdict(result: AuthResult, expected: true | RegExp): void {
  if (expected === true) expect(result).toEqual({ allowed: true });
  else expect(result).toEqual({ allowed: false, reason: expect.stringMatching(expected) });
}

interface Case {
  readonly name: string;
  readonly versions: readonly string[];
  readonly room?: RoomOptions;
  readonly event: (r: Room) => StateEvent;
  /** true, or a pattern the reason must match. */
  readonly expected: true | RegExp;
}

/** One test per case and version it names. */
function table(cases: readonly Case[]): void {
  const rows = cases.flatMap((c) => c.versions.map((v) => [`v${v}: ${c.name}`, v, c] as const));
  it.each(rows)('%s', (_name, versionId, c) => {
    const r = room(versionId, c.room);
    expectVerdict(authorizeIn(r, c.event(r)), c.expected);
  });
}

const member = (r: Room, sender: string, target: string, membership: string, content: Record<string, unknown> = {}) =>
  ev(r, 'm.room.member', target, sender, { membership, ...content });

describe('m.room.create', () => {
  const rows: Array<[name: string, versions: string[], event: (v: string) => StateEvent, expected: true | RegExp]> = [
    ['a create event is allowed', ALL, (v) => createEvent(v), true],
    ['one with prev_events is not', ALL, (v) => createEvent(v, {}, ALICE, { prev_events: ['$x:a.example'] }), /must not have prev_events/],
    ['the room_id must be on the sender\'s server', range(1, 11), (v) => createEvent(v, {}, BOB), /room_id !room:a.example is not on the server of the sender @bob:b.example/],
    ['a room_id with no server is on no server', range(1, 11), (v) => createEvent(v, {}, ALICE, { room_id: '!room' }), /not on the server/],
    ['v12: room IDs have no server, so any sender may create', ['12'], (v) => createEvent(v, {}, BOB), true],
    ['v12: a create event carrying a room_id of its own is rejected', ['12'], (v) => createEvent(v, {}, ALICE, { room_id: '!room:a.example' }), /must not have a room_id/],
    ['an unknown room_version is rejected', ALL, (v) => createEvent(v, { room_version: '99' }), /room_version "99" is not a known room version/],
    ['a room_version that is not a string is rejected', ALL, (v) => createEvent(v, { room_version: 5 }), /room_version 5 is not a known/],
    ['no room_version means version 1, which is known', ALL, (v) => createEvent(v, { room_version: undefined }), true],
    ['content.creator is required before v11', range(1, 10), (v) => createEvent(v, { creator: undefined }), /must have content.creator/],
    ['v11+: no creator is needed', ['11', '12'], (v) => createEvent(v, { creator: undefined }), true],
    ['v12: additional_creators of user IDs is allowed', ['12'], (v) => createEvent(v, { additional_creators: [BOB, CAROL] }), true],
    ['v12: additional_creators must be a list', ['12'], (v) => createEvent(v, { additional_creators: BOB }), /additional_creators is not a list of user IDs/],
    ['v12: additional_creators must hold user IDs', ['12'], (v) => createEvent(v, { additional_creators: [BOB, 'carol'] }), /additional_creators/],
    ['v12: a user ID with a bad server name is no user ID', ['12'], (v) => createEvent(v, { additional_creators: ['@bob:bad_host!'] }), /additional_creators/],
    ['v12: historical user IDs are user IDs', ['12'], (v) => createEvent(v, { additional_creators: ['@Bob Smith:b.example'] }), true],
    ['before v12 additional_creators is not validated', range(1, 11), (v) => createEvent(v, { additional_creators: 'anything' }), true],
  ];
  it.each(rows.flatMap(([name, versions, event, expected]) => versions.map((v) => [`v${v}: ${name}`, v, event, expected] as const)))(
    '%s',
    (_name, v, event, expected) => {
      const create = event(v);
      expectVerdict(authorize(create, () => undefined, getRoomVersion(v)!), expected);
    },
  );
});

describe('rules before the membership rules', () => {
  table([
    { name: 'a message from a joined member is allowed', versions: ALL, event: (r) => ev(r, 'm.room.message', null, CAROL, { body: 'hi' }), expected: true },
    {
      name: 'without an m.room.create in the state every event is rejected',
      versions: ALL,
      event: (r) => {
        r.state.delete(stateKey('m.room.create', ''));
        return ev(r, 'm.room.message', null, CAROL, {});
      },
      expected: /no m.room.create event/,
    },
    {
      name: 'an event of another room is rejected',
      versions: ALL,
      event: (r) => ev(r, 'm.room.message', null, CAROL, {}, { room_id: '!other:a.example' }),
      expected: /room_id !other:a.example is not the room of the m.room.create event/,
    },
    {
      name: 'm.federate false: a sender on another server than the creator\'s is rejected',
      versions: ALL,
      room: { create: { 'm.federate': false } },
      event: (r) => ev(r, 'm.room.message', null, CAROL, {}),
      expected: /does not federate .* sender @carol:c.example/,
    },
    {
      name: 'm.federate false: the creator\'s server may still send',
      versions: ALL,
      room: { create: { 'm.federate': false } },
      event: (r) => ev(r, 'm.room.message', null, ALICE, {}),
      expected: true,
    },
    {
      name: 'm.federate false: a join from another server is rejected before the join rules',
      versions: ALL,
      room: { create: { 'm.federate': false } },
      event: (r) => member(r, DAVE, DAVE, 'join'),
      expected: /does not federate/,
    },
    { name: 'a sender who never joined is rejected', versions: ALL, event: (r) => ev(r, 'm.room.message', null, DAVE, {}), expected: /sender @dave:d.example is not joined to the room/ },
    {
      name: 'an invited sender is not joined',
      versions: ALL,
      room: { members: { [DAVE]: 'invite' } },
      event: (r) => ev(r, 'm.room.message', null, DAVE, {}),
      expected: /not joined/,
    },
    { name: 'a banned sender is not joined', versions: ALL, event: (r) => ev(r, 'm.room.message', null, EVE, {}), expected: /not joined/ },
  ]);
});

describe('m.room.aliases', () => {
  table([
    {
      name: 'v1-v5: a server may set its own aliases without being in the room',
      versions: range(1, 5),
      event: (r) => ev(r, 'm.room.aliases', 'd.example', DAVE, { aliases: ['#x:d.example'] }),
      expected: true,
    },
    {
      name: 'v1-v5: the state_key must be the sender\'s domain',
      versions: range(1, 5),
      event: (r) => ev(r, 'm.room.aliases', 'a.example', CAROL, { aliases: [] }),
      expected: /state_key a.example of m.room.aliases is not the domain of the sender @carol:c.example/,
    },
    {
      name: 'v1-v5: an aliases event needs a state_key',
      versions: range(1, 5),
      event: (r) => ev(r, 'm.room.aliases', null, CAROL, { aliases: [] }),
      expected: /must have a state_key/,
    },
    {
      name: 'v6+: m.room.aliases is an ordinary state event, so the sender must be joined',
      versions: range(6, 12),
      event: (r) => ev(r, 'm.room.aliases', 'd.example', DAVE, { aliases: [] }),
      expected: /not joined/,
    },
    {
      name: 'v6+: and needs the state_default',
      versions: range(6, 12),
      event: (r) => ev(r, 'm.room.aliases', 'c.example', CAROL, { aliases: [] }),
      expected: /power level 0, below the 50 required to send m.room.aliases/,
    },
  ]);
});

describe('third-party invites, required power levels, state keys', () => {
  table([
    { name: 'm.room.third_party_invite needs only the invite level (0)', versions: ALL, event: (r) => ev(r, 'm.room.third_party_invite', 'tok', CAROL, {}), expected: true },
    {
      name: 'm.room.third_party_invite below the invite level is rejected',
      versions: ALL,
      room: { levels: { invite: 10 } },
      event: (r) => ev(r, 'm.room.third_party_invite', 'tok', CAROL, {}),
      expected: /power level 0, below the invite level 10/,
    },
    {
      name: 'm.room.third_party_invite is not subject to state_default',
      versions: ALL,
      room: { levels: { invite: 0, state_default: 100 } },
      event: (r) => ev(r, 'm.room.third_party_invite', 'tok', CAROL, {}),
      expected: true,
    },
    { name: 'a state event needs the state_default, 50', versions: ALL, event: (r) => ev(r, 'm.room.topic', '', CAROL, { topic: 't' }), expected: /@carol:c.example has power level 0, below the 50 required to send m.room.topic/ },
    { name: 'a moderator meets the state_default', versions: ALL, event: (r) => ev(r, 'm.room.topic', '', BOB, { topic: 't' }), expected: true },
    {
      name: 'events overrides state_default',
      versions: ALL,
      room: { levels: { events: { 'm.room.topic': 0 } } },
      event: (r) => ev(r, 'm.room.topic', '', CAROL, {}),
      expected: true,
    },
    {
      name: 'events overrides events_default',
      versions: ALL,
      room: { levels: { events: { 'm.room.message': 10 } } },
      event: (r) => ev(r, 'm.room.message', null, CAROL, {}),
      expected: /below the 10 required to send m.room.message/,
    },
    {
      name: 'events_default applies to messages',
      versions: ALL,
      room: { levels: { events_default: 1 } },
      event: (r) => ev(r, 'm.room.message', null, CAROL, {}),
      expected: /below the 1 required/,
    },
    {
      name: 'users_default raises everyone not listed',
      versions: ALL,
      room: { levels: { users_default: 50 } },
      event: (r) => ev(r, 'm.room.topic', '', CAROL, {}),
      expected: true,
    },
    {
      name: 'without power levels the state_default is still 50',
      versions: ALL,
      room: { levels: null },
      event: (r) => ev(r, 'm.room.topic', '', BOB, {}),
      expected: /@bob:b.example has power level 0, below the 50 required/,
    },
    {
      name: 'without power levels the creator has 100 (v12: infinite power)',
      versions: ALL,
      room: { levels: null },
      event: (r) => ev(r, 'm.room.topic', '', ALICE, {}),
      expected: true,
    },
    {
      name: 'a state_key starting with @ must be the sender',
      versions: ALL,
      event: (r) => ev(r, 'm.custom', BOB, ALICE, {}),
      expected: /state_key @bob:b.example starts with @ but is not the sender @alice:a.example/,
    },
    { name: 'a state_key that is the sender is allowed', versions: ALL, event: (r) => ev(r, 'm.custom', BOB, BOB, {}), expected: true },
    {
      name: 'string levels in the current power levels are read before v10',
      versions: range(1, 9),
      room: { users: { [CAROL]: '60' } },
      event: (r) => ev(r, 'm.room.topic', '', CAROL, {}),
      expected: true,
    },
    {
      name: 'a level the rules must read but cannot is a rejection',
      versions: range(1, 9),
      room: { levels: { state_default: 'fifty' } },
      event: (r) => ev(r, 'm.room.topic', '', BOB, {}),
      expected: /m.room.power_levels state_default is "fifty", not a power level in room version/,
    },
    {
      name: 'v10+: a string in the current power levels cannot be read',
      versions: range(10, 12),
      room: { users: { [CAROL]: '60' } },
      event: (r) => ev(r, 'm.room.topic', '', CAROL, {}),
      expected: /users\["@carol:c.example"\] is "60", not a power level in room version/,
    },
  ]);
});

describe('m.room.redaction', () => {
  table([
    {
      name: 'v1-v2: below the redact level, a redaction of an event from the same domain is allowed',
      versions: ['1', '2'],
      event: (r) => ev(r, 'm.room.redaction', null, CAROL, {}, { redacts: '$theirs:c.example' }),
      expected: true,
    },
    {
      name: 'v1-v2: below the redact level, a redaction of another domain\'s event is rejected',
      versions: ['1', '2'],
      event: (r) => ev(r, 'm.room.redaction', null, CAROL, {}, { redacts: '$x:b.example' }),
      expected: /power level 0, below the redact level 50, and the redacted event \$x:b.example is not from the domain/,
    },
    {
      name: 'v1-v2: the redact level allows any redaction',
      versions: ['1', '2'],
      event: (r) => ev(r, 'm.room.redaction', null, BOB, {}, { redacts: '$x:a.example' }),
      expected: true,
    },
    {
      name: 'v1-v2: a redaction naming no event is rejected below the redact level',
      versions: ['1', '2'],
      event: (r) => ev(r, 'm.room.redaction', null, CAROL, {}),
      expected: /redacted event \(none\)/,
    },
    {
      name: 'v3+: the redact level is not an auth rule',
      versions: range(3, 12),
      event: (r) => ev(r, 'm.room.redaction', null, CAROL, { redacts: '$x:b.example' }, { redacts: '$x:b.example' }),
      expected: true,
    },
    {
      name: 'a redaction still needs its required power level',
      versions: ALL,
      room: { levels: { events: { 'm.room.redaction': 60 } } },
      event: (r) => ev(r, 'm.room.redaction', null, BOB, {}, { redacts: '$x:b.example' }),
      expected: /below the 60 required to send m.room.redaction/,
    },
  ]);
});

describe('m.room.member', () => {
  describe('shape', () => {
    table([
      { name: 'no membership is rejected', versions: ALL, event: (r) => ev(r, 'm.room.member', CAROL, CAROL, {}), expected: /must have a state_key and a content.membership/ },
      { name: 'no state_key is rejected', versions: ALL, event: (r) => ev(r, 'm.room.member', null, CAROL, { membership: 'leave' }), expected: /must have a state_key/ },
      { name: 'an unknown membership is rejected', versions: ALL, event: (r) => member(r, CAROL, CAROL, 'lurk'), expected: /membership "lurk" is unknown/ },
    ]);
  });

  describe('join', () => {
    const creatorJoin = (r: Room, user: string): StateEvent => ({ ...member(r, user, user, 'join'), prev_events: [r.create.event_id] });
    table([
      {
        name: 'the creator\'s join right after the create event is allowed',
        versions: ALL,
        room: { levels: null, joinRule: null, members: {} },
        event: (r) => {
          r.state.delete(stateKey('m.room.member', ALICE));
          return creatorJoin(r, ALICE);
        },
        expected: true,
      },
      {
        name: 'v1-v10: the creator is content.creator, whoever sent the create event',
        versions: range(1, 10),
        room: { create: { creator: DAVE }, levels: null, joinRule: null },
        event: (r) => creatorJoin(r, DAVE),
        expected: true,
      },
      {
        name: 'v11+: content.creator means nothing; the create event\'s sender is the creator',
        versions: ['11', '12'],
        room: { create: { creator: DAVE }, levels: null, joinRule: null },
        event: (r) => creatorJoin(r, DAVE),
        expected: /may only join a room whose join rule is invite when invited/,
      },
      {
        name: 'v12: an additional creator is not "the sender of the m.room.create"',
        versions: ['12'],
        room: { create: { additional_creators: [DAVE] }, levels: null, joinRule: null },
        event: (r) => creatorJoin(r, DAVE),
        expected: /when invited/,
      },
      { name: 'joining a public room is allowed', versions: ALL, event: (r) => member(r, DAVE, DAVE, 'join'), expected: true },
      { name: 'joining on behalf of another user is rejected', versions: ALL, event: (r) => member(r, BOB, DAVE, 'join'), expected: /sender @bob:b.example cannot join the room as @dave:d.example/ },
      { name: 'a banned user cannot join', versions: ALL, event: (r) => member(r, EVE, EVE, 'join'), expected: /@eve:e.example is banned/ },
      {
        name: 'invite rule: an invited user may join',
        versions: ALL,
        room: { joinRule: 'invite', members: { [DAVE]: 'invite' } },
        event: (r) => member(r, DAVE, DAVE, 'join'),
        expected: true,
      },
      { name: 'invite rule: a joined user may join again', versions: ALL, room: { joinRule: 'invite' }, event: (r) => member(r, CAROL, CAROL, 'join'), expected: true },
      {
        name: 'invite rule: without an invite, no',
        versions: ALL,
        room: { joinRule: 'invite' },
        event: (r) => member(r, DAVE, DAVE, 'join'),
        expected: /@dave:d.example may only join a room whose join rule is invite when invited/,
      },
      {
        name: 'no join rules event reads as invite: invited joins',
        versions: ALL,
        room: { joinRule: null, members: { [DAVE]: 'invite' } },
        event: (r) => member(r, DAVE, DAVE, 'join'),
        expected: true,
      },
      { name: 'no join rules event reads as invite: uninvited does not', versions: ALL, room: { joinRule: null }, event: (r) => member(r, DAVE, DAVE, 'join'), expected: /when invited/ },
      { name: 'private rule: nobody joins', versions: ALL, room: { joinRule: 'private', members: { [DAVE]: 'invite' } }, event: (r) => member(r, DAVE, DAVE, 'join'), expected: /join rule "private" does not let sender @dave:d.example join/ },
      {
        name: 'v7+: knock rule: an invited user may join',
        versions: range(7, 12),
        room: { joinRule: 'knock', members: { [DAVE]: 'invite' } },
        event: (r) => member(r, DAVE, DAVE, 'join'),
        expected: true,
      },
      {
        name: 'v1-v6: knock is no join rule, so nobody joins',
        versions: range(1, 6),
        room: { joinRule: 'knock', members: { [DAVE]: 'invite' } },
        event: (r) => member(r, DAVE, DAVE, 'join'),
        expected: /join rule "knock" does not let/,
      },
      { name: 'v7+: knock rule: a knocking user has no invite yet', versions: range(7, 12), room: { joinRule: 'knock', members: { [DAVE]: 'knock' } }, event: (r) => member(r, DAVE, DAVE, 'join'), expected: /when invited/ },
    ]);
  });

  describe('restricted joins (v8+) and knock_restricted (v10+)', () => {
    const via = (r: Room, authoriser: unknown) => member(r, DAVE, DAVE, 'join', { join_authorised_via_users_server: authoriser });
    table([
      { name: 'restricted: a join vouched for by a joined member who can invite', versions: range(8, 12), room: { joinRule: 'restricted' }, event: (r) => via(r, CAROL), expected: true },
      { name: 'before v8 restricted is no join rule', versions: range(1, 7), room: { joinRule: 'restricted' }, event: (r) => via(r, CAROL), expected: /join rule "restricted" does not let/ },
      { name: 'restricted: no join_authorised_via_users_server', versions: range(8, 12), room: { joinRule: 'restricted' }, event: (r) => member(r, DAVE, DAVE, 'join'), expected: /needs join_authorised_via_users_server/ },
      { name: 'restricted: the authorising user must be joined', versions: range(8, 12), room: { joinRule: 'restricted', members: { [BOB]: 'leave' } }, event: (r) => via(r, BOB), expected: /join_authorised_via_users_server @bob:b.example is not joined to the room/ },
      {
        name: 'restricted: the authorising user must reach the invite level',
        versions: range(8, 12),
        room: { joinRule: 'restricted', levels: { invite: 10 } },
        event: (r) => via(r, CAROL),
        expected: /join_authorised_via_users_server @carol:c.example has power level 0, below the invite level 10/,
      },
      { name: 'restricted: an invited user needs no voucher', versions: range(8, 12), room: { joinRule: 'restricted', members: { [DAVE]: 'invite' } }, event: (r) => member(r, DAVE, DAVE, 'join'), expected: true },
      { name: 'restricted: a banned user cannot join even vouched for', versions: range(8, 12), room: { joinRule: 'restricted' }, event: (r) => member(r, EVE, EVE, 'join', { join_authorised_via_users_server: BOB }), expected: /banned/ },
      { name: 'knock_restricted: a vouched join', versions: range(10, 12), room: { joinRule: 'knock_restricted' }, event: (r) => via(r, BOB), expected: true },
      {
        name: 'knock_restricted: a knocking user with a voucher',
        versions: range(10, 12),
        room: { joinRule: 'knock_restricted', members: { [DAVE]: 'knock' } },
        event: (r) => via(r, BOB),
        expected: true,
      },
      { name: 'knock_restricted: no voucher, no invite', versions: range(10, 12), room: { joinRule: 'knock_restricted' }, event: (r) => member(r, DAVE, DAVE, 'join'), expected: /needs join_authorised_via_users_server/ },
      { name: 'before v10 knock_restricted is no join rule', versions: range(1, 9), room: { joinRule: 'knock_restricted' }, event: (r) => via(r, BOB), expected: /join rule "knock_restricted" does not let/ },
      { name: 'v12: a creator vouches with infinite power', versions: ['12'], room: { joinRule: 'restricted', levels: { invite: 1000 } }, event: (r) => via(r, ALICE), expected: true },
    ]);
  });

  describe('invite', () => {
    table([
      { name: 'a member at the invite level invites', versions: ALL, event: (r) => member(r, CAROL, DAVE, 'invite'), expected: true },
      { name: 'a sender who is not joined cannot invite', versions: ALL, room: { members: { [CAROL]: 'invite' } }, event: (r) => member(r, CAROL, DAVE, 'invite'), expected: /sender @carol:c.example is not joined to the room, so cannot invite/ },
      { name: 'a joined user cannot be invited', versions: ALL, event: (r) => member(r, CAROL, BOB, 'invite'), expected: /target user @bob:b.example cannot be invited: their membership is join/ },
      { name: 'a banned user cannot be invited', versions: ALL, event: (r) => member(r, BOB, EVE, 'invite'), expected: /their membership is ban/ },
      { name: 'an invite below the invite level is rejected', versions: ALL, room: { levels: { invite: 50 } }, event: (r) => member(r, CAROL, DAVE, 'invite'), expected: /@carol:c.example has power level 0, below the invite level 50/ },
      { name: 'a user who left may be invited again', versions: ALL, room: { members: { [DAVE]: 'leave' } }, event: (r) => member(r, CAROL, DAVE, 'invite'), expected: true },
    ]);
  });

  describe('invite with a third-party invite', () => {
    const identityKey = signingKeyFromSeed('0', Buffer.alloc(32, 7));
    const otherKey = signingKeyFromSeed('0', Buffer.alloc(32, 8));
    const signedBy = (key = identityKey, mxid: unknown = DAVE, token: unknown = 'tok') =>
      signJson({ mxid, token }, 'id.example', key) as { mxid: unknown; token: unknown; signatures: Record<string, Record<string, string>> };
    const withInvite = (content: Record<string, unknown> = { public_key: identityKey.publicKey }, sender = CAROL): RoomOptions => ({
      extra: (r) => [ev(r, 'm.room.third_party_invite', 'tok', sender, { display_name: 'd...', key_validity_url: 'https://id.example/v', ...content })],
    });
    const thirdParty = (r: Room, third_party_invite: unknown, sender = CAROL, target = DAVE) =>
      member(r, sender, target, 'invite', { third_party_invite });
    table([
      { name: 'a signature by the invite\'s public_key allows', versions: ALL, room: withInvite(), event: (r) => thirdParty(r, { display_name: 'd', signed: signedBy() }), expected: true },
      {
        name: 'a key in public_keys allows too',
        versions: ALL,
        room: withInvite({ public_key: otherKey.publicKey, public_keys: [{ public_key: 'not base64!' }, { public_key: identityKey.publicKey }] }),
        event: (r) => thirdParty(r, { signed: signedBy() }),
        expected: true,
      },
      { name: 'a signature by another key is rejected', versions: ALL, room: withInvite(), event: (r) => thirdParty(r, { signed: signedBy(otherKey) }), expected: /no signature in third_party_invite.signed verifies/ },
      {
        name: 'a signed object changed after signing is rejected',
        versions: ALL,
        room: withInvite(),
        event: (r) => thirdParty(r, { signed: { ...signedBy(), extra: 1 } }),
        expected: /no signature .* verifies/,
      },
      {
        name: 'only ed25519 key IDs are tried',
        versions: ALL,
        room: withInvite(),
        event: (r) => {
          const signed = signedBy();
          return thirdParty(r, { signed: { ...signed, signatures: { 'id.example': { 'curve:0': signed.signatures['id.example']!['ed25519:0'] } } } });
        },
        expected: /no signature/,
      },
      { name: 'the target must not be banned', versions: ALL, room: withInvite(), event: (r) => thirdParty(r, { signed: signedBy(identityKey, EVE) }, CAROL, EVE), expected: /target user @eve:e.example is banned, so cannot be invited/ },
      { name: 'third_party_invite needs signed', versions: ALL, room: withInvite(), event: (r) => thirdParty(r, { display_name: 'd' }), expected: /has no signed object/ },
      { name: 'a third_party_invite that is no object has no signed', versions: ALL, room: withInvite(), event: (r) => thirdParty(r, null), expected: /has no signed object/ },
      { name: 'signed needs a token', versions: ALL, room: withInvite(), event: (r) => thirdParty(r, { signed: { mxid: DAVE, signatures: {} } }), expected: /must have mxid and token/ },
      { name: 'signed needs an mxid', versions: ALL, room: withInvite(), event: (r) => thirdParty(r, { signed: { token: 'tok', signatures: {} } }), expected: /must have mxid and token/ },
      { name: 'the mxid must be the state_key', versions: ALL, room: withInvite(), event: (r) => thirdParty(r, { signed: signedBy(identityKey, BOB) }), expected: /signed.mxid "@bob:b.example" is not the state_key @dave:d.example/ },
      { name: 'the token must name an m.room.third_party_invite', versions: ALL, room: withInvite(), event: (r) => thirdParty(r, { signed: signedBy(identityKey, DAVE, 'other') }), expected: /no m.room.third_party_invite with the token "other"/ },
      { name: 'the sender must be the one who sent the m.room.third_party_invite', versions: ALL, room: withInvite(undefined, BOB), event: (r) => thirdParty(r, { signed: signedBy() }), expected: /sender @carol:c.example did not send the m.room.third_party_invite, @bob:b.example did/ },
      {
        name: 'an invite with no public keys verifies nothing',
        versions: ALL,
        room: withInvite({ public_key: undefined }),
        event: (r) => thirdParty(r, { signed: signedBy() }),
        expected: /no signature/,
      },
    ]);
  });

  describe('leave, kick and unban', () => {
    table([
      { name: 'a member may leave', versions: ALL, event: (r) => member(r, CAROL, CAROL, 'leave'), expected: true },
      { name: 'an invited user may reject the invite', versions: ALL, room: { members: { [DAVE]: 'invite' } }, event: (r) => member(r, DAVE, DAVE, 'leave'), expected: true },
      { name: 'v7+: a knocking user may retract the knock', versions: range(7, 12), room: { members: { [DAVE]: 'knock' } }, event: (r) => member(r, DAVE, DAVE, 'leave'), expected: true },
      { name: 'v1-v6: knock is no membership to leave from', versions: range(1, 6), room: { members: { [DAVE]: 'knock' } }, event: (r) => member(r, DAVE, DAVE, 'leave'), expected: /cannot leave: their membership is knock/ },
      { name: 'a user never in the room cannot leave', versions: ALL, event: (r) => member(r, DAVE, DAVE, 'leave'), expected: /@dave:d.example cannot leave: their membership is none/ },
      { name: 'a banned user cannot unban themselves by leaving', versions: ALL, event: (r) => member(r, EVE, EVE, 'leave'), expected: /their membership is ban/ },
      { name: 'a moderator kicks a member', versions: ALL, event: (r) => member(r, BOB, CAROL, 'leave'), expected: true },
      { name: 'a kicker must be joined', versions: ALL, room: { members: { [BOB]: 'leave' } }, event: (r) => member(r, BOB, CAROL, 'leave'), expected: /sender @bob:b.example is not joined to the room, so cannot kick/ },
      { name: 'a member below the kick level cannot kick', versions: ALL, event: (r) => member(r, CAROL, BOB, 'leave'), expected: /@carol:c.example has power level 0, below the kick level 50/ },
      { name: 'the target must be below the kicker', versions: ALL, room: { users: { [CAROL]: 50 } }, event: (r) => member(r, BOB, CAROL, 'leave'), expected: /target user @carol:c.example has power level 50, not below sender @bob:b.example's 50/ },
      { name: 'a moderator cannot kick the creator', versions: ALL, event: (r) => member(r, BOB, ALICE, 'leave'), expected: /target user @alice:a.example has power level (100|Infinity)/ },
      { name: 'unbanning needs the ban level', versions: ALL, room: { levels: { ban: 60 } }, event: (r) => member(r, BOB, EVE, 'leave'), expected: /power level 50, below the ban level 60, so cannot unban/ },
      { name: 'unbanning needs the kick level too', versions: ALL, room: { levels: { ban: 0, kick: 60 } }, event: (r) => member(r, BOB, EVE, 'leave'), expected: /below the kick level 60/ },
      { name: 'a moderator unbans', versions: ALL, event: (r) => member(r, BOB, EVE, 'leave'), expected: true },
    ]);
  });

  describe('ban', () => {
    table([
      { name: 'a moderator bans a member', versions: ALL, event: (r) => member(r, BOB, CAROL, 'ban'), expected: true },
      { name: 'a moderator bans someone never in the room', versions: ALL, event: (r) => member(r, BOB, DAVE, 'ban'), expected: true },
      { name: 'the banner must be joined', versions: ALL, room: { members: { [BOB]: 'invite' } }, event: (r) => member(r, BOB, CAROL, 'ban'), expected: /not joined to the room, so cannot ban/ },
      { name: 'below the ban level, no ban', versions: ALL, event: (r) => member(r, CAROL, DAVE, 'ban'), expected: /@carol:c.example has power level 0, below the ban level 50/ },
      { name: 'the target must be below the banner', versions: ALL, event: (r) => member(r, BOB, ALICE, 'ban'), expected: /target user @alice:a.example has power level/ },
      { name: 'nobody bans themselves at their own level', versions: ALL, event: (r) => member(r, BOB, BOB, 'ban'), expected: /target user @bob:b.example has power level 50, not below/ },
    ]);
  });

  describe('knock (v7+)', () => {
    table([
      { name: 'knocking on a knock room', versions: range(7, 12), room: { joinRule: 'knock' }, event: (r) => member(r, DAVE, DAVE, 'knock'), expected: true },
      { name: 'v1-v6: knock is an unknown membership', versions: range(1, 6), room: { joinRule: 'knock' }, event: (r) => member(r, DAVE, DAVE, 'knock'), expected: /membership "knock" is unknown in room version/ },
      { name: 'a public room takes no knocks', versions: range(7, 12), event: (r) => member(r, DAVE, DAVE, 'knock'), expected: /join rule "public" does not allow knocking/ },
      { name: 'v10+: knocking on a knock_restricted room', versions: range(10, 12), room: { joinRule: 'knock_restricted' }, event: (r) => member(r, DAVE, DAVE, 'knock'), expected: true },
      { name: 'v7-v9: knock_restricted takes no knocks', versions: range(7, 9), room: { joinRule: 'knock_restricted' }, event: (r) => member(r, DAVE, DAVE, 'knock'), expected: /does not allow knocking/ },
      { name: 'nobody knocks for someone else', versions: range(7, 12), room: { joinRule: 'knock' }, event: (r) => member(r, CAROL, DAVE, 'knock'), expected: /sender @carol:c.example cannot knock as @dave:d.example/ },
      { name: 'an invited user does not knock', versions: range(7, 12), room: { joinRule: 'knock', members: { [DAVE]: 'invite' } }, event: (r) => member(r, DAVE, DAVE, 'knock'), expected: /cannot knock: their membership is invite/ },
      { name: 'a joined user does not knock', versions: range(7, 12), room: { joinRule: 'knock' }, event: (r) => member(r, CAROL, CAROL, 'knock'), expected: /membership is join/ },
      { name: 'a banned user does not knock', versions: range(7, 12), room: { joinRule: 'knock' }, event: (r) => member(r, EVE, EVE, 'knock'), expected: /membership is ban/ },
      { name: 'a user who left may knock again', versions: range(7, 12), room: { joinRule: 'knock', members: { [DAVE]: 'leave' } }, event: (r) => member(r, DAVE, DAVE, 'knock'), expected: true },
    ]);
  });
});

describe('m.room.power_levels', () => {
  const levels = (r: Room, sender: string, content: Record<string, unknown>) => ev(r, 'm.room.power_levels', '', sender, content);
  /** The room's power levels content with some fields replaced. */
  const changed = (r: Room, fields: Record<string, unknown>) => ({ ...r.state.get(stateKey('m.room.power_levels', ''))!.content, ...fields });
  const usersOf = (r: Room, users: Record<string, unknown>) => changed(r, { users: { ...(changed(r, {})['users'] as object), ...users } });
  table([
    { name: 'the first power levels event is allowed whatever it grants', versions: ALL, room: { levels: null }, event: (r) => levels(r, ALICE, { users: { [BOB]: 1000 }, ban: 1000 }), expected: true },
    { name: 'users must be an object', versions: ALL, room: { levels: null }, event: (r) => levels(r, ALICE, { users: [BOB] }), expected: /users is not an object/ },
    { name: 'users keys must be user IDs', versions: ALL, room: { levels: null }, event: (r) => levels(r, ALICE, { users: { bob: 50 } }), expected: /users has a key "bob" that is not a user ID/ },
    { name: 'users values must be levels', versions: ALL, room: { levels: null }, event: (r) => levels(r, ALICE, { users: { [BOB]: 'fifty' } }), expected: /users\["@bob:b.example"\] is "fifty", not a power level/ },
    { name: 'v1-v9: an integer string in users is a level', versions: range(1, 9), room: { levels: null }, event: (r) => levels(r, ALICE, { users: { [BOB]: ' +050 ' } }), expected: true },
    { name: 'v10+: strings in users are rejected', versions: range(10, 12), room: { levels: null }, event: (r) => levels(r, ALICE, { users: { [BOB]: '50' } }), expected: /users\["@bob:b.example"\] is "50", not a power level in room version/ },
    { name: 'v1-v5: a float in users is a level', versions: range(1, 5), room: { levels: null }, event: (r) => levels(r, ALICE, { users: { [BOB]: 50.57 } }), expected: true },
    { name: 'v6+: a float is not', versions: range(6, 12), room: { levels: null }, event: (r) => levels(r, ALICE, { users: { [BOB]: 50.57 } }), expected: /is 50.57, not a power level/ },
    { name: 'v1-v9: a string ban level is allowed', versions: range(1, 9), event: (r) => levels(r, ALICE, changed(r, { ban: '50' })), expected: true },
    { name: 'v10+: a string ban level is rejected', versions: range(10, 12), event: (r) => levels(r, ALICE, changed(r, { ban: '50' })), expected: /m.room.power_levels ban is "50", not an integer/ },
    { name: 'v10+: even in the first power levels event', versions: range(10, 12), room: { levels: null }, event: (r) => levels(r, ALICE, { state_default: '50' }), expected: /state_default is "50", not an integer/ },
    { name: 'v10+: events values must be integers', versions: range(10, 12), event: (r) => levels(r, ALICE, changed(r, { events: { 'm.room.name': '50' } })), expected: /events\["m.room.name"\] is "50", not an integer/ },
    { name: 'v10+: notifications must be an object', versions: range(10, 12), event: (r) => levels(r, ALICE, changed(r, { notifications: 50 })), expected: /notifications is not an object/ },
    { name: 'v10+: notifications values must be integers', versions: range(10, 12), event: (r) => levels(r, ALICE, changed(r, { notifications: { room: true } })), expected: /notifications\["room"\] is true, not an integer/ },
    { name: 'a moderator may lower a level they meet', versions: ALL, event: (r) => levels(r, BOB, changed(r, { ban: 40 })), expected: true },
    { name: 'nobody raises a level above their own', versions: ALL, event: (r) => levels(r, BOB, changed(r, { kick: 51 })), expected: /sender @bob:b.example has power level 50, so cannot set kick to 51/ },
    { name: 'nobody changes a level above their own', versions: ALL, room: { levels: { kick: 75 } }, event: (r) => levels(r, BOB, changed(r, { kick: 50 })), expected: /so cannot change kick from 75/ },
    { name: 'removing a level above one\'s own is changing it', versions: ALL, room: { levels: { redact: 75 } }, event: (r) => levels(r, BOB, changed(r, { redact: undefined })), expected: /cannot change redact from 75/ },
    { name: 'adding a level up to one\'s own', versions: ALL, event: (r) => levels(r, BOB, changed(r, { invite: 50 })), expected: true },
    { name: 'an unchanged level above one\'s own may stay', versions: ALL, room: { levels: { kick: 75 } }, event: (r) => levels(r, BOB, changed(r, { ban: 10 })), expected: true },
    { name: 'v1-v9: "75" and 75 are the same level, so no change', versions: range(1, 9), room: { levels: { kick: 75 } }, event: (r) => levels(r, BOB, changed(r, { kick: '75' })), expected: true },
    { name: 'events: adding an entry above one\'s own', versions: ALL, event: (r) => levels(r, BOB, changed(r, { events: { 'm.room.name': 60 } })), expected: /cannot set events\["m.room.name"\] to 60/ },
    { name: 'events: removing an entry above one\'s own', versions: ALL, room: { levels: { events: { 'm.room.name': 60 } } }, event: (r) => levels(r, BOB, changed(r, { events: {} })), expected: /cannot change events\["m.room.name"\] from 60/ },
    { name: 'events: changing entries at or below one\'s own', versions: ALL, room: { levels: { events: { 'm.room.name': 50 } } }, event: (r) => levels(r, BOB, changed(r, { events: { 'm.room.name': 10, 'm.room.topic': 50 } })), expected: true },
    { name: 'v6+: notifications above one\'s own cannot change', versions: range(6, 12), room: { levels: { notifications: { room: 75 } } }, event: (r) => levels(r, BOB, changed(r, { notifications: { room: 0 } })), expected: /cannot change notifications\["room"\] from 75/ },
    { name: 'v1-v5: notifications are not checked', versions: range(1, 5), room: { levels: { notifications: { room: 75 } } }, event: (r) => levels(r, BOB, changed(r, { notifications: { room: 100 } })), expected: true },
    { name: 'users: promoting someone up to one\'s own level', versions: ALL, event: (r) => levels(r, BOB, usersOf(r, { [CAROL]: 50 })), expected: true },
    { name: 'users: promoting someone above one\'s own level', versions: ALL, event: (r) => levels(r, BOB, usersOf(r, { [CAROL]: 51 })), expected: /cannot set users\["@carol:c.example"\] to 51/ },
    { name: 'users: demoting a peer is not allowed', versions: ALL, room: { users: { [CAROL]: 50 } }, event: (r) => levels(r, BOB, usersOf(r, { [CAROL]: 0 })), expected: /cannot change users\["@carol:c.example"\] from 50/ },
    { name: 'users: demoting oneself is', versions: ALL, event: (r) => levels(r, BOB, usersOf(r, { [BOB]: 0 })), expected: true },
    { name: 'users: removing a lower user\'s entry is', versions: ALL, room: { users: { [CAROL]: 20 } }, event: (r) => levels(r, BOB, usersOf(r, { [CAROL]: undefined })), expected: true },
    { name: 'users: a member cannot set their own level above theirs', versions: ALL, room: { levels: { events: { 'm.room.power_levels': 0 } } }, event: (r) => levels(r, CAROL, usersOf(r, { [CAROL]: 1 })), expected: /cannot set users\["@carol:c.example"\] to 1/ },
    { name: 'sending power levels needs its required level (state_default)', versions: ALL, event: (r) => levels(r, CAROL, changed(r, {})), expected: /below the 50 required to send m.room.power_levels/ },
    { name: 'v1-v11: the creator at 100 cannot grant 101', versions: range(1, 11), event: (r) => levels(r, ALICE, usersOf(r, { [BOB]: 101 })), expected: /@alice:a.example has power level 100, so cannot set users\["@bob:b.example"\] to 101/ },
    { name: 'v12: the creator\'s infinite power grants anything', versions: ['12'], event: (r) => levels(r, ALICE, usersOf(r, { [BOB]: 1_000_000 })), expected: true },
    { name: 'v12: users must not list the creator', versions: ['12'], event: (r) => levels(r, ALICE, usersOf(r, { [ALICE]: 100 })), expected: /users must not list the room creator @alice:a.example/ },
    {
      name: 'v12: users must not list an additional creator',
      versions: ['12'],
      room: { create: { additional_creators: [DAVE] } },
      event: (r) => levels(r, ALICE, usersOf(r, { [DAVE]: 0 })),
      expected: /must not list the room creator @dave:d.example/,
    },
    { name: 'v12: not even in the first power levels event', versions: ['12'], room: { levels: null }, event: (r) => levels(r, ALICE, { users: { [ALICE]: 100 } }), expected: /must not list the room creator/ },
    { name: 'v1-v11: the creator is an ordinary entry of users', versions: range(1, 11), event: (r) => levels(r, ALICE, usersOf(r, { [ALICE]: 100 })), expected: true },
  ]);
});

describe('v12 privileged creators (MSC4289)', () => {
  const creators: RoomOptions = { create: { additional_creators: [DAVE] }, members: { [DAVE]: 'join' } };
  table([
    { name: 'a creator cannot kick another creator: neither is below infinity', versions: ['12'], room: creators, event: (r) => member(r, ALICE, DAVE, 'leave'), expected: /target user @dave:d.example has power level Infinity, not below sender @alice:a.example's Infinity/ },
    { name: 'an additional creator kicks anyone else', versions: ['12'], room: creators, event: (r) => member(r, DAVE, BOB, 'leave'), expected: true },
    { name: 'an additional creator sends any state', versions: ['12'], room: { ...creators, levels: { state_default: 1_000_000 } }, event: (r) => ev(r, 'm.room.topic', '', DAVE, {}), expected: true },
    { name: 'before v12 additional_creators grants nothing', versions: ['11'], room: creators, event: (r) => ev(r, 'm.room.topic', '', DAVE, {}), expected: /@dave:d.example has power level 0, below the 50 required/ },
    { name: 'a creator must still be joined', versions: ['12'], room: { members: { [ALICE]: 'leave' } }, event: (r) => ev(r, 'm.room.topic', '', ALICE, {}), expected: /sender @alice:a.example is not joined/ },
    { name: 'the room_id must be the create event\'s ID with !', versions: ['12'], event: (r) => ev(r, 'm.room.message', null, CAROL, {}, { room_id: '!room:a.example' }), expected: /room_id !room:a.example is not the room of the m.room.create event \$create-event-reference-hash/ },
  ]);
});

describe('authorizeByAuthEvents', () => {
  const never = () => false;
  /** The event's auth events as the selection picks them from the room's state, listed on the event. */
  function withAuthEvents(r: Room, event: StateEvent, keys: Array<[string, string]>): [StateEvent, StateEvent[]] {
    const authEvents = keys.map(([type, key]) => r.state.get(stateKey(type, key))!).filter((e) => !(r.version.roomIdIsCreateEventId && e.type === 'm.room.create'));
    return [{ ...event, auth_events: authEvents.map((e) => e.event_id) }, authEvents];
  }
  const messageKeys: Array<[string, string]> = [['m.room.create', ''], ['m.room.power_levels', ''], ['m.room.member', CAROL]];
  const check = (r: Room, event: StateEvent, authEvents: readonly StateEvent[], isRejected: (id: string) => boolean = never) =>
    authorizeByAuthEvents(event, authEvents, r.create, isRejected, r.version);

  it.each(ALL)('v%s: a message with the selected auth events is allowed', (v) => {
    const r = room(v);
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), messageKeys);
    expect(check(r, event, authEvents)).toEqual({ allowed: true });
  });

  it.each(ALL)('v%s: the auth events are the whole state: a sender whose membership is not listed is not joined', (v) => {
    const r = room(v);
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), messageKeys.slice(0, 2));
    expectVerdict(check(r, event, authEvents), /sender @carol:c.example is not joined to the room/);
  });

  it.each(ALL)('v%s: two auth events for one (type, state_key) are rejected', (v) => {
    const r = room(v);
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), messageKeys);
    const second = ev(r, 'm.room.member', CAROL, CAROL, { membership: 'join' });
    expectVerdict(check(r, { ...event, auth_events: [...event.auth_events, second.event_id] }, [...authEvents, second]), /auth_events lists more than one m.room.member event with state_key "@carol:c.example"/);
  });

  it.each(ALL)('v%s: an auth event the selection does not pick is rejected', (v) => {
    const r = room(v);
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), [...messageKeys, ['m.room.join_rules', '']]);
    expectVerdict(check(r, event, authEvents), /auth event \S+ \(m.room.join_rules, ""\) is not in the auth events selection/);
  });

  it.each(ALL)('v%s: an auth event that is not a state event is rejected, even of a selected type (issue 19, item 9)', (v) => {
    const r = room(v);
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), messageKeys);
    const notState = ev(r, 'm.room.power_levels', null, CAROL, {});
    const listed = authEvents.filter((e) => e.type !== 'm.room.power_levels');
    const cited = { ...event, auth_events: [...listed.map((e) => e.event_id), notState.event_id] };
    expect(check(r, cited, [...listed, notState])).toEqual({ allowed: false, reason: `auth event ${notState.event_id} is not a state event` });
  });

  it.each(ALL)('v%s: another user\'s membership is not in a message\'s selection', (v) => {
    const r = room(v);
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), [...messageKeys, ['m.room.member', BOB]]);
    expectVerdict(check(r, event, authEvents), /\(m.room.member, "@bob:b.example"\) is not in the auth events selection/);
  });

  it.each(ALL)('v%s: a rejected auth event is rejected', (v) => {
    const r = room(v);
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), messageKeys);
    const powerLevels = r.state.get(stateKey('m.room.power_levels', ''))!.event_id;
    expectVerdict(check(r, event, authEvents, (id) => id === powerLevels), new RegExp(`auth event \\${powerLevels} was itself rejected`));
  });

  it.each(ALL)('v%s: an auth event of another room is rejected', (v) => {
    const r = room(v);
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), messageKeys);
    const foreign = authEvents.map((e) => (e.type === 'm.room.power_levels' ? { ...e, room_id: '!other:b.example' } : e));
    expectVerdict(check(r, event, foreign), /belongs to room !other:b.example, not/);
  });

  it.each(ALL)('v%s: a listed auth event that is not known is passed over', (v) => {
    const r = room(v);
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), messageKeys);
    expect(check(r, { ...event, auth_events: [...event.auth_events, '$unknown:x.example'] }, authEvents)).toEqual({ allowed: true });
  });

  it.each(ALL)('v%s: known events the event does not list are not its auth events', (v) => {
    const r = room(v);
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), messageKeys);
    const membership = r.state.get(stateKey('m.room.member', CAROL))!.event_id;
    const unlisted = { ...event, auth_events: event.auth_events.filter((id) => id !== membership) };
    expectVerdict(check(r, unlisted, authEvents), /sender @carol:c.example is not joined/);
  });

  it.each(range(1, 11))('v%s: auth_events must list the create event', (v) => {
    const r = room(v);
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), messageKeys.slice(1));
    expectVerdict(check(r, event, authEvents), /auth_events does not list the m.room.create event/);
  });

  it('v12: auth_events must not list the create event (MSC4291)', () => {
    const r = room('12');
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), messageKeys);
    const listed = [r.create, ...authEvents];
    expectVerdict(check(r, { ...event, auth_events: listed.map((e) => e.event_id) }, listed), /auth_events must not list the m.room.create event in room version 12/);
  });

  it('v12: the create event the room ID names must be known', () => {
    const r = room('12');
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), messageKeys);
    expectVerdict(authorizeByAuthEvents(event, authEvents, undefined, never, r.version), /room_id !create-event-reference-hash is not the ID of a known m.room.create event/);
  });

  it('v12: and is the one the room ID names', () => {
    const r = room('12');
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), messageKeys);
    const other = { ...r.create, event_id: '$another-create' };
    expectVerdict(authorizeByAuthEvents(event, authEvents, other, never, r.version), /is not the ID of a known m.room.create event/);
  });

  it('v12: and not rejected', () => {
    const r = room('12');
    const [event, authEvents] = withAuthEvents(r, ev(r, 'm.room.message', null, CAROL, {}), messageKeys);
    expectVerdict(check(r, event, authEvents, (id) => id === r.create.event_id), /the m.room.create event \$create-event-reference-hash was rejected/);
  });

  it.each(ALL)('v%s: a join lists the join rules and its membership', (v) => {
    const r = room(v);
    const [event, authEvents] = withAuthEvents(r, member(r, DAVE, DAVE, 'join'), [['m.room.create', ''], ['m.room.power_levels', ''], ['m.room.join_rules', '']]);
    expect(check(r, event, authEvents)).toEqual({ allowed: true });
  });

  it.each(range(8, 12))('v%s: a restricted join lists the authorising user\'s membership', (v) => {
    const r = room(v, { joinRule: 'restricted' });
    const keys: Array<[string, string]> = [['m.room.create', ''], ['m.room.power_levels', ''], ['m.room.join_rules', ''], ['m.room.member', BOB]];
    const [event, authEvents] = withAuthEvents(r, member(r, DAVE, DAVE, 'join', { join_authorised_via_users_server: BOB }), keys);
    expect(check(r, event, authEvents)).toEqual({ allowed: true });
  });

  it.each(ALL)('v%s: the create event is judged by its own rules', (v) => {
    const r = room(v);
    expect(check(r, r.create, [])).toEqual({ allowed: true });
    expectVerdict(check(r, { ...r.create, prev_events: ['$x:a.example'] }, []), /must not have prev_events/);
  });
});
