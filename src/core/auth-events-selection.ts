/**
 * The auth events selection (spec: server-server API, "Auth events selection"): which (type, state_key) pairs of
 * the room state an event's `auth_events` list. The create event lists none; every other event the create event
 * (which v12 no longer lists, MSC4291: the rules on auth_events drop it again), the power levels and the sender's
 * membership, and a membership event also the target's membership, the join rules and what its content names.
 */
import { isObject } from './json';
import type { RoomVersion } from './room-versions';
import { stateKey, type StateEvent } from './state-event';

export function authEventsSelection(event: StateEvent, version: RoomVersion): Array<[type: string, stateKey: string]> {
  if (event.type === 'm.room.create') return [];
  const pairs: Array<[string, string]> = [
    ['m.room.create', ''],
    ['m.room.power_levels', ''],
    ['m.room.member', event.sender],
  ];
  if (event.type === 'm.room.member' && event.state_key !== null) {
    const membership = event.content['membership'];
    pairs.push(['m.room.member', event.state_key]);
    if (membership === 'join' || membership === 'invite' || membership === 'knock') pairs.push(['m.room.join_rules', '']);
    const token = thirdPartyInviteToken(event);
    if (membership === 'invite' && token !== undefined) pairs.push(['m.room.third_party_invite', token]);
    const authorisingUser = event.content['join_authorised_via_users_server'];
    // "and the room version supports restricted rooms": v8+.
    if (membership === 'join' && version.auth.restrictedJoinRule && typeof authorisingUser === 'string') {
      pairs.push(['m.room.member', authorisingUser]);
    }
  }
  const seen = new Set<string>();
  return pairs.filter(([type, key]) => !seen.has(stateKey(type, key)) && seen.add(stateKey(type, key)));
}

/** `content.third_party_invite.signed.token` of a membership event, when it is a string. */
export function thirdPartyInviteToken(event: StateEvent): string | undefined {
  const invite = event.content['third_party_invite'];
  const signed = isObject(invite) ? invite['signed'] : undefined;
  const token = isObject(signed) ? signed['token'] : undefined;
  return typeof token === 'string' ? token : undefined;
}
