/**
 * The redaction algorithm per room version, as written in the spec: content/rooms/fragments/v1-redactions.md
 * (v1-v5), v6-redactions.md (v6, v7), the list inlined in content/rooms/v8.md (v8), v9-redactions.md (v9, v10)
 * and v11-redactions.md (v11, v12). The expected tables below are transcribed from those lists, not derived from the
 * RoomVersion flags under test.
 */
import { prunedPdu, redactEvent } from '../../src/core/redaction';
import { hasRedactLevel, redactedEventIdOf, redactionOutcome, type RedactionFacts } from '../../src/core/redaction-rules';
import type { StateEvent } from '../../src/core/state-event';
import { getRoomVersion, SUPPORTED_ROOM_VERSIONS, type RoomVersion } from '../../src/core/room-versions';

const v = (id: string): RoomVersion => getRoomVersion(id)!;
const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

const ALL = range(1, 12);

const TOP_LEVEL_V1_TO_V10 = [
  'event_id', 'type', 'room_id', 'sender', 'state_key', 'content', 'hashes', 'signatures', 'depth', 'prev_events',
  'prev_state', 'auth_events', 'origin', 'origin_server_ts', 'membership',
];
const TOP_LEVEL_V11_ON = [
  'event_id', 'type', 'room_id', 'sender', 'state_key', 'content', 'hashes', 'signatures', 'depth', 'prev_events',
  'auth_events', 'origin_server_ts',
];

function topLevelKeptIn(id: string): string[] {
  return Number(id) <= 10 ? TOP_LEVEL_V1_TO_V10 : TOP_LEVEL_V11_ON;
}

/** Every top-level key an event might carry, each with a distinct value. */
const EVERY_TOP_LEVEL_KEY = {
  event_id: '$e:domain',
  type: 'm.room.message',
  room_id: '!r:domain',
  sender: '@u:domain',
  state_key: 'sk',
  content: { body: 'hi' },
  hashes: { sha256: 'aGFzaA' },
  signatures: { domain: { 'ed25519:1': 'c2ln' } },
  depth: 12,
  prev_events: ['$p'],
  prev_state: ['$s'],
  auth_events: ['$a'],
  origin: 'domain',
  origin_server_ts: 1234,
  membership: 'join',
  unsigned: { age: 5, redacted_because: {} },
  redacts: '$target',
  age_ts: 99,
  user_id: '@u:domain',
  txn_id: 'txn',
  outlier: true,
  custom_key: { nested: 1 },
};

describe('top-level keys', () => {
  it.each(ALL)('room version %s keeps exactly the listed keys', (id) => {
    const redacted = redactEvent(EVERY_TOP_LEVEL_KEY, v(id));
    expect(Object.keys(redacted).sort()).toEqual([...topLevelKeptIn(id)].sort());
    for (const key of topLevelKeptIn(id)) {
      if (key !== 'content') expect(redacted[key]).toEqual(EVERY_TOP_LEVEL_KEY[key as keyof typeof EVERY_TOP_LEVEL_KEY]);
    }
    expect(redacted.content).toEqual({});
  });

  it.each(ALL)('room version %s strips unsigned and the top-level `redacts` of a redaction', (id) => {
    const redaction = {
      type: 'm.room.redaction',
      room_id: '!r:domain',
      sender: '@u:domain',
      redacts: '$target',
      content: { reason: 'spam', redacts: '$target' },
      unsigned: { age: 1 },
    };
    const redacted = redactEvent(redaction, v(id));
    expect(redacted).not.toHaveProperty('redacts');
    expect(redacted).not.toHaveProperty('unsigned');
  });

  it('does not add keys that were absent, except content', () => {
    expect(redactEvent({ type: 'm.room.message' }, v('1'))).toEqual({ type: 'm.room.message', content: {} });
    expect(redactEvent({ type: 'X', content: 'not an object' }, v('11'))).toEqual({ type: 'X', content: {} });
  });

  it('does not mutate its input', () => {
    const event = structuredClone(EVERY_TOP_LEVEL_KEY);
    redactEvent({ ...event, type: 'm.room.create', content: { creator: '@u:domain', x: 1 } }, v('11'));
    redactEvent(event, v('1'));
    expect(event).toEqual(EVERY_TOP_LEVEL_KEY);
  });
});

interface ContentCase {
  type: string;
  content: Record<string, unknown>;
  /** The content kept, per room version group (keys are "from-to" inclusive ranges). */
  expected: Array<[versions: string[], kept: Record<string, unknown>]>;
}

const ALLOW = [{ type: 'm.room_membership', room_id: '!other:domain' }];
const USERS = { '@u:domain': 100 };
const EVENTS = { 'm.room.name': 50 };
const SIGNED = { mxid: '@u:domain', token: 'tok', signatures: { 'id.example': { 'ed25519:0': 'c2ln' } } };

const CONTENT_CASES: ContentCase[] = [
  {
    type: 'm.room.member',
    content: {
      membership: 'join',
      join_authorised_via_users_server: '@admin:domain',
      displayname: 'U',
      avatar_url: 'mxc://domain/a',
      reason: 'because',
      is_direct: true,
      third_party_invite: { display_name: 'u…@example.com', signed: SIGNED },
    },
    expected: [
      [range(1, 8), { membership: 'join' }],
      [range(9, 10), { membership: 'join', join_authorised_via_users_server: '@admin:domain' }],
      [
        range(11, 12),
        {
          membership: 'join',
          join_authorised_via_users_server: '@admin:domain',
          third_party_invite: { signed: SIGNED },
        },
      ],
    ],
  },
  {
    type: 'm.room.create',
    content: { creator: '@u:domain', room_version: '5', 'm.federate': false, predecessor: { room_id: '!old:domain' } },
    expected: [
      [range(1, 10), { creator: '@u:domain' }],
      [
        range(11, 12),
        { creator: '@u:domain', room_version: '5', 'm.federate': false, predecessor: { room_id: '!old:domain' } },
      ],
    ],
  },
  {
    type: 'm.room.join_rules',
    content: { join_rule: 'restricted', allow: ALLOW, extra: 1 },
    expected: [
      [range(1, 7), { join_rule: 'restricted' }],
      [range(8, 12), { join_rule: 'restricted', allow: ALLOW }],
    ],
  },
  {
    type: 'm.room.power_levels',
    content: {
      ban: 50,
      events: EVENTS,
      events_default: 0,
      invite: 0,
      kick: 50,
      redact: 50,
      state_default: 50,
      users: USERS,
      users_default: 0,
      notifications: { room: 50 },
    },
    expected: [
      [
        range(1, 10),
        { ban: 50, events: EVENTS, events_default: 0, kick: 50, redact: 50, state_default: 50, users: USERS, users_default: 0 },
      ],
      [
        range(11, 12),
        {
          ban: 50,
          events: EVENTS,
          events_default: 0,
          invite: 0,
          kick: 50,
          redact: 50,
          state_default: 50,
          users: USERS,
          users_default: 0,
        },
      ],
    ],
  },
  {
    type: 'm.room.aliases',
    content: { aliases: ['#a:domain'], extra: 1 },
    expected: [
      [range(1, 5), { aliases: ['#a:domain'] }],
      [range(6, 12), {}],
    ],
  },
  {
    type: 'm.room.history_visibility',
    content: { history_visibility: 'shared', extra: 1 },
    expected: [[ALL, { history_visibility: 'shared' }]],
  },
  {
    type: 'm.room.redaction',
    content: { redacts: '$target', reason: 'spam' },
    expected: [
      [range(1, 10), {}],
      [range(11, 12), { redacts: '$target' }],
    ],
  },
  // Types with no exception: their content is always emptied.
  ...[
    ['m.room.message', { msgtype: 'm.text', body: 'hi', 'm.relates_to': { rel_type: 'm.thread', event_id: '$t' } }],
    ['m.room.name', { name: 'Room' }],
    ['m.room.topic', { topic: 'Topic' }],
    ['m.room.canonical_alias', { alias: '#a:domain', alt_aliases: [] }],
    ['m.room.third_party_invite', { display_name: 'x', key_validity_url: 'https://x', public_key: 'cGs' }],
    ['m.room.guest_access', { guest_access: 'can_join' }],
    ['m.room.encryption', { algorithm: 'm.megolm.v1.aes-sha2' }],
    ['m.room.server_acl', { allow: ['*'], deny: [] }],
    ['m.room.tombstone', { body: 'gone', replacement_room: '!new:domain' }],
    ['m.room.member.extra', { membership: 'join' }],
    ['M.ROOM.CREATE', { creator: '@u:domain' }],
  ].map(([type, content]) => ({ type: type as string, content: content as Record<string, unknown>, expected: [[ALL, {}]] as ContentCase['expected'] })),
];

const CONTENT_ROWS = CONTENT_CASES.flatMap(({ type, content, expected }) =>
  expected.flatMap(([versions, kept]) => versions.map((id) => [type, id, content, kept] as const)),
);

describe('content', () => {
  it('the table covers every room version for every type', () => {
    for (const { type, expected } of CONTENT_CASES) {
      expect([type, expected.flatMap(([versions]) => versions).sort((a, b) => Number(a) - Number(b))]).toEqual([
        type,
        SUPPORTED_ROOM_VERSIONS,
      ]);
    }
  });

  it.each(CONTENT_ROWS)('%s in room version %s', (type, id, content, kept) => {
    const event = { type, room_id: '!r:domain', sender: '@u:domain', state_key: '', content };
    expect(redactEvent(event, v(id))).toEqual({ type, room_id: '!r:domain', sender: '@u:domain', state_key: '', content: kept });
  });

  it.each(CONTENT_ROWS)('%s in room version %s keeps only what is present', (type, id) => {
    const event = { type, room_id: '!r:domain', sender: '@u:domain', content: { unrelated: 1 } };
    const createKeepsAll = type === 'm.room.create' && Number(id) >= 11;
    expect(redactEvent(event, v(id)).content).toEqual(createKeepsAll ? { unrelated: 1 } : {});
  });
});

describe('m.room.member third_party_invite from room version 11 (MSC3821)', () => {
  const member = (thirdPartyInvite: unknown) => ({
    type: 'm.room.member',
    state_key: '@u:domain',
    content: { membership: 'invite', third_party_invite: thirdPartyInvite },
  });

  it.each(range(11, 12))('v%s keeps only `signed`, whatever it holds', (id) => {
    expect(redactEvent(member({ signed: 'anything', display_name: 'x' }), v(id)).content).toEqual({
      membership: 'invite',
      third_party_invite: { signed: 'anything' },
    });
  });

  // "The `third_party_invite` key of m.room.member events is no longer redacted, *but* will only contain the
  // `signed` key after redaction" (rooms/v11.md): an object without `signed` stays as an empty object.
  it.each(range(11, 12))('v%s keeps an object without `signed` as {}', (id) => {
    expect(redactEvent(member({ display_name: 'x' }), v(id)).content).toEqual({
      membership: 'invite',
      third_party_invite: {},
    });
  });

  it.each(range(11, 12))('v%s drops a third_party_invite that is not an object', (id) => {
    for (const value of ['signed', ['signed'], null, 5]) {
      expect(redactEvent(member(value), v(id)).content).toEqual({ membership: 'invite' });
    }
  });

  it.each(range(1, 10))('v%s drops third_party_invite entirely', (id) => {
    expect(redactEvent(member({ signed: SIGNED, display_name: 'x' }), v(id)).content).toEqual({ membership: 'invite' });
  });
});

describe('values are kept as they are', () => {
  it('keeps non-object and odd values of allowed keys untouched', () => {
    const event = { type: 'm.room.power_levels', content: { users: null, ban: '50', events: [1], kick: 1.5 } };
    expect(redactEvent(event, v('1')).content).toEqual({ users: null, ban: '50', events: [1], kick: 1.5 });
  });

  it('keeps an empty object when every key was stripped', () => {
    expect(redactEvent({ type: 'm.room.create', content: {} }, v('1')).content).toEqual({});
    expect(redactEvent({ type: 'm.room.create', content: {} }, v('12')).content).toEqual({});
  });
});

describe('prunedPdu: a stored PDU as it is served once redacted', () => {
  it('is the redaction of the parsed PDU, as JSON, and pruning twice changes nothing', () => {
    const pdu = JSON.stringify({ ...EVERY_TOP_LEVEL_KEY, content: { body: 'hi', msgtype: 'm.text' } });
    for (const id of ALL) {
      const once = prunedPdu(pdu, v(id));
      expect(JSON.parse(once)).toEqual(redactEvent(JSON.parse(pdu), v(id)));
      expect(prunedPdu(once, v(id))).toBe(once);
    }
  });
});

// Synapse's check_redaction (event_auth.py) and _maybe_redact_event_row (events_worker.py), as one decision.
describe('when a redaction applies', () => {
  const event = (fields: Partial<StateEvent>): StateEvent => ({
    event_id: '$r:a.example', room_id: '!room:a.example', type: 'm.room.redaction', state_key: null,
    sender: '@u:a.example', content: {}, depth: 5, origin_server_ts: 0, prev_events: [], auth_events: [], ...fields,
  });
  const redaction = (fields: Partial<RedactionFacts> = {}): RedactionFacts =>
    ({ room_id: '!room:a.example', sender: '@u:a.example', rejected: false, may_redact_any: false, ...fields });
  const target = { room_id: '!room:a.example', sender: '@v:b.example', type: 'm.room.message' };

  it.each(range(1, 10))('v%s: the target is the top-level `redacts`', (id) => {
    expect(redactedEventIdOf(event({ redacts: '$t', content: { redacts: '$c' } }), v(id))).toBe('$t');
    expect(redactedEventIdOf(event({ content: { redacts: '$c' } }), v(id))).toBeUndefined();
  });

  it.each(range(11, 12))('v%s: the target is `content.redacts` (MSC2174)', (id) => {
    expect(redactedEventIdOf(event({ redacts: '$t', content: { redacts: '$c' } }), v(id))).toBe('$c');
    expect(redactedEventIdOf(event({ redacts: '$t' }), v(id))).toBeUndefined();
  });

  it('names nothing for another type or a target that is not a string', () => {
    expect(redactedEventIdOf(event({ type: 'm.room.message', content: { redacts: '$c' } }), v('11'))).toBeUndefined();
    expect(redactedEventIdOf(event({ content: { redacts: 5 } }), v('11'))).toBeUndefined();
  });

  it.each(ALL)('v%s: never when rejected, of another room, or of an m.room.create', (id) => {
    const all = redaction({ may_redact_any: true, sender: '@v:b.example' });
    expect(redactionOutcome({ ...all, rejected: true }, target, v(id))).toBe('the redaction is rejected');
    expect(redactionOutcome(all, { ...target, room_id: '!other:a.example' }, v(id))).toBe('the redacted event is in another room');
    expect(redactionOutcome(all, { ...target, type: 'm.room.create' }, v(id))).toBe('an m.room.create is never redacted');
    expect(redactionOutcome(all, target, v(id))).toBe('applied');
  });

  it.each(range(1, 2))('v%s: an accepted redaction applies (the authorization rules did the domain check)', (id) => {
    expect(redactionOutcome(redaction(), target, v(id))).toBe('applied');
  });

  it.each(range(3, 12))('v%s: below the redact level, only an event of the same server', (id) => {
    expect(redactionOutcome(redaction(), target, v(id))).toBe('sent from another server than the redacted event, by a sender below the redact level');
    expect(redactionOutcome(redaction({ sender: '@w:b.example' }), target, v(id))).toBe('applied');
    expect(redactionOutcome(redaction({ may_redact_any: true }), target, v(id))).toBe('applied');
  });

  it('the redact level: 50 by default, the power levels event\'s otherwise, v12 creators always', () => {
    const create = event({ type: 'm.room.create', state_key: '', sender: '@creator:a.example', content: { creator: '@creator:a.example' } });
    const levels = (content: Record<string, unknown>) => event({ type: 'm.room.power_levels', state_key: '', content });
    expect(hasRedactLevel('@u:a.example', levels({ users: { '@u:a.example': 50 } }), create, v('10'))).toBe(true);
    expect(hasRedactLevel('@u:a.example', levels({ users: { '@u:a.example': 49 } }), create, v('10'))).toBe(false);
    expect(hasRedactLevel('@u:a.example', levels({ redact: 0 }), create, v('10'))).toBe(true);
    // No power levels event: the creator has 100, others 0.
    expect(hasRedactLevel('@creator:a.example', undefined, create, v('10'))).toBe(true);
    expect(hasRedactLevel('@u:a.example', undefined, create, v('10'))).toBe(false);
    expect(hasRedactLevel('@creator:a.example', levels({ users: {}, redact: 1000 }), create, v('12'))).toBe(true);
    // A level that is not one in this room version gives no power.
    expect(hasRedactLevel('@u:a.example', levels({ users: { '@u:a.example': '100' } }), create, v('10'))).toBe(false);
  });
});
