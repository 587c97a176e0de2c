/** The auth events selection (spec: server-server API, "Auth events selection"), one row per kind of event. */
import { authEventsSelection } from '../../src/core/auth-events-selection';
import { getRoomVersion } from '../../src/core/room-versions';
import type { StateEvent } from '../../src/core/state-event';

const ALICE = '@alice:a.example';
const BOB = '@bob:b.example';
const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

function event(type: string, stateKey: string | null, sender: string, content: Record<string, unknown> = {}): StateEvent {
  return {
    event_id: '$event', room_id: '!room:a.example', type, state_key: stateKey, sender, content,
    depth: 2, origin_server_ts: 0, prev_events: ['$previous'], auth_events: [],
  };
}

const BASE: Array<[string, string]> = [['m.room.create', ''], ['m.room.power_levels', ''], ['m.room.member', ALICE]];
const thirdParty = { third_party_invite: { signed: { mxid: BOB, token: 'tok', signatures: {} } } };

const rows: Array<[name: string, versions: string[], event: StateEvent, expected: Array<[string, string]>]> = [
  ['the create event lists nothing', range(1, 12), event('m.room.create', '', ALICE), []],
  ['a message: create, power levels, the sender\'s membership', range(1, 12), event('m.room.message', null, ALICE), BASE],
  ['a state event: the same', range(1, 12), event('m.room.topic', '', ALICE), BASE],
  ['a join: the membership once, and the join rules', range(1, 12), event('m.room.member', ALICE, ALICE, { membership: 'join' }), [...BASE, ['m.room.join_rules', '']]],
  ['an invite: the target\'s membership and the join rules', range(1, 12), event('m.room.member', BOB, ALICE, { membership: 'invite' }), [...BASE, ['m.room.member', BOB], ['m.room.join_rules', '']]],
  ['a knock: the join rules', range(1, 12), event('m.room.member', BOB, BOB, { membership: 'knock' }), [['m.room.create', ''], ['m.room.power_levels', ''], ['m.room.member', BOB], ['m.room.join_rules', '']]],
  ['a kick: no join rules', range(1, 12), event('m.room.member', BOB, ALICE, { membership: 'leave' }), [...BASE, ['m.room.member', BOB]]],
  ['a ban: no join rules', range(1, 12), event('m.room.member', BOB, ALICE, { membership: 'ban' }), [...BASE, ['m.room.member', BOB]]],
  [
    'a third-party invite: the m.room.third_party_invite of its token',
    range(1, 12),
    event('m.room.member', BOB, ALICE, { membership: 'invite', ...thirdParty }),
    [...BASE, ['m.room.member', BOB], ['m.room.join_rules', ''], ['m.room.third_party_invite', 'tok']],
  ],
  [
    'a third_party_invite on a join is not picked',
    range(1, 12),
    event('m.room.member', ALICE, ALICE, { membership: 'join', ...thirdParty }),
    [...BASE, ['m.room.join_rules', '']],
  ],
  [
    'v8+: a restricted join: the authorising user\'s membership',
    range(8, 12),
    event('m.room.member', BOB, BOB, { membership: 'join', join_authorised_via_users_server: ALICE }),
    [['m.room.create', ''], ['m.room.power_levels', ''], ['m.room.member', BOB], ['m.room.join_rules', ''], ['m.room.member', ALICE]],
  ],
  [
    'before v8 join_authorised_via_users_server means nothing',
    range(1, 7),
    event('m.room.member', BOB, BOB, { membership: 'join', join_authorised_via_users_server: ALICE }),
    [['m.room.create', ''], ['m.room.power_levels', ''], ['m.room.member', BOB], ['m.room.join_rules', '']],
  ],
  [
    'join_authorised_via_users_server on an invite is not picked',
    range(8, 12),
    event('m.room.member', BOB, ALICE, { membership: 'invite', join_authorised_via_users_server: '@carol:c.example' }),
    [...BASE, ['m.room.member', BOB], ['m.room.join_rules', '']],
  ],
];

it.each(rows.flatMap(([name, versions, e, expected]) => versions.map((id) => [`v${id}: ${name}`, id, e, expected] as const)))(
  '%s',
  (_name, id, e, expected) => {
    expect(authEventsSelection(e, getRoomVersion(id)!)).toEqual(expected);
  },
);
