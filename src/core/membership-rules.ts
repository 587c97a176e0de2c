/**
 * The authorization rules for m.room.member events (spec: room versions' authorization rules, "If type is
 * m.room.member"): join, invite (with and without a third-party invite), leave (and kick, and unban), ban and,
 * from v7, knock. Each membership either allows or rejects here; none falls through to the later rules.
 */
import { ALLOWED, rejected, type AuthResult } from './auth-result';
import type { AuthState } from './auth-state';
import { isObject } from './json';
import { roomCreator } from './power-levels';
import type { StateEvent } from './state-event';
import { isSignedByInviteKey } from './third-party-invite';

export function authorizeMembership(event: StateEvent, state: AuthState): AuthResult {
  const membership = event.content['membership'];
  if (event.state_key === null || membership === undefined) {
    return rejected('an m.room.member event must have a state_key and a content.membership');
  }
  switch (membership) {
    case 'join':
      return authorizeJoin(event, state);
    case 'invite':
      return event.content['third_party_invite'] !== undefined
        ? authorizeThirdPartyInvite(event, event.state_key, state)
        : authorizeInvite(event, event.state_key, state);
    case 'leave':
      return authorizeLeave(event, event.state_key, state);
    case 'ban':
      return authorizeBan(event, event.state_key, state);
    case 'knock':
      // Before v7 knock is a membership like any other unknown one.
      if (state.version.auth.knock) return authorizeKnock(event, state);
      break;
  }
  return rejected(`membership ${JSON.stringify(membership)} is unknown in room version ${state.version.id}`);
}

function authorizeJoin(event: StateEvent, state: AuthState): AuthResult {
  const { sender } = event;
  const { create, version } = state;
  if (
    event.prev_events.length === 1 &&
    event.prev_events[0] === create.event_id &&
    event.state_key === roomCreator(create, version)
  ) {
    return ALLOWED;
  }
  if (sender !== event.state_key) return rejected(`sender ${sender} cannot join the room as ${event.state_key}`);
  const current = state.membership(sender);
  if (current === 'ban') return rejected(`sender ${sender} is banned from the room, so cannot join it`);

  const joinRule = state.joinRule();
  const { knock, restrictedJoinRule, knockRestrictedJoinRule } = version.auth;
  if (joinRule === 'invite' || (knock && joinRule === 'knock')) {
    if (current === 'invite' || current === 'join') return ALLOWED;
    return rejected(`sender ${sender} may only join a room whose join rule is ${joinRule} when invited`);
  }
  if ((restrictedJoinRule && joinRule === 'restricted') || (knockRestrictedJoinRule && joinRule === 'knock_restricted')) {
    if (current === 'invite' || current === 'join') return ALLOWED;
    return authorizeRestrictedJoin(event, state);
  }
  if (joinRule === 'public') return ALLOWED;
  return rejected(`the join rule ${JSON.stringify(joinRule)} does not let sender ${sender} join in room version ${version.id}`);
}

/**
 * v8+ (MSC3083): a join to a restricted room without an invite names, in `join_authorised_via_users_server`, a
 * member of the room who vouches that the joiner meets an `allow` condition; that user must be joined and able
 * to invite. (The rule that the event is signed by that user's server is checked with the signatures, not here.)
 */
function authorizeRestrictedJoin(event: StateEvent, state: AuthState): AuthResult {
  const authorising = event.content['join_authorised_via_users_server'];
  if (typeof authorising !== 'string') {
    return rejected(`a join to a ${String(state.joinRule())} room without an invite needs join_authorised_via_users_server`);
  }
  if (state.membership(authorising) !== 'join') {
    return rejected(`join_authorised_via_users_server ${authorising} is not joined to the room`);
  }
  const level = state.powerLevel(authorising);
  const inviteLevel = state.level('invite');
  if (level < inviteLevel) {
    return rejected(
      `join_authorised_via_users_server ${authorising} has power level ${level}, below the invite level ${inviteLevel}`,
    );
  }
  return ALLOWED;
}

function authorizeThirdPartyInvite(event: StateEvent, target: string, state: AuthState): AuthResult {
  if (state.membership(target) === 'ban') return rejected(`target user ${target} is banned, so cannot be invited`);
  const thirdPartyInvite = event.content['third_party_invite'];
  const signed = isObject(thirdPartyInvite) ? thirdPartyInvite['signed'] : undefined;
  if (!isObject(signed)) return rejected('content.third_party_invite has no signed object');
  const { mxid, token } = signed;
  if (mxid === undefined || token === undefined) return rejected('third_party_invite.signed must have mxid and token');
  if (mxid !== target) return rejected(`third_party_invite.signed.mxid ${JSON.stringify(mxid)} is not the state_key ${target}`);
  const invite = typeof token === 'string' ? state.get('m.room.third_party_invite', token) : undefined;
  if (invite === undefined) {
    return rejected(`there is no m.room.third_party_invite with the token ${JSON.stringify(token)} in the room state`);
  }
  if (invite.sender !== event.sender) {
    return rejected(`sender ${event.sender} did not send the m.room.third_party_invite, ${invite.sender} did`);
  }
  if (isSignedByInviteKey(signed, invite)) return ALLOWED;
  return rejected('no signature in third_party_invite.signed verifies with the m.room.third_party_invite public keys');
}

function authorizeInvite(event: StateEvent, target: string, state: AuthState): AuthResult {
  const { sender } = event;
  if (state.membership(sender) !== 'join') return rejected(`sender ${sender} is not joined to the room, so cannot invite`);
  const targetMembership = state.membership(target);
  if (targetMembership === 'join' || targetMembership === 'ban') {
    return rejected(`target user ${target} cannot be invited: their membership is ${describeMembership(targetMembership)}`);
  }
  const level = state.powerLevel(sender);
  const inviteLevel = state.level('invite');
  if (level >= inviteLevel) return ALLOWED;
  return rejected(`sender ${sender} has power level ${level}, below the invite level ${inviteLevel}`);
}

/** Leaving, rejecting an invite, retracting a knock, kicking and unbanning. */
function authorizeLeave(event: StateEvent, target: string, state: AuthState): AuthResult {
  const { sender } = event;
  if (sender === target) {
    const current = state.membership(sender);
    if (current === 'invite' || current === 'join' || (state.version.auth.knock && current === 'knock')) return ALLOWED;
    return rejected(`sender ${sender} cannot leave: their membership is ${describeMembership(current)}`);
  }
  if (state.membership(sender) !== 'join') return rejected(`sender ${sender} is not joined to the room, so cannot kick`);
  const level = state.powerLevel(sender);
  const banLevel = state.level('ban');
  if (state.membership(target) === 'ban' && level < banLevel) {
    return rejected(`sender ${sender} has power level ${level}, below the ban level ${banLevel}, so cannot unban`);
  }
  const kickLevel = state.level('kick');
  if (level < kickLevel) return rejected(`sender ${sender} has power level ${level}, below the kick level ${kickLevel}`);
  const targetLevel = state.powerLevel(target);
  if (targetLevel < level) return ALLOWED;
  return rejected(`target user ${target} has power level ${targetLevel}, not below sender ${sender}'s ${level}`);
}

function authorizeBan(event: StateEvent, target: string, state: AuthState): AuthResult {
  const { sender } = event;
  if (state.membership(sender) !== 'join') return rejected(`sender ${sender} is not joined to the room, so cannot ban`);
  const level = state.powerLevel(sender);
  const banLevel = state.level('ban');
  if (level < banLevel) return rejected(`sender ${sender} has power level ${level}, below the ban level ${banLevel}`);
  const targetLevel = state.powerLevel(target);
  if (targetLevel < level) return ALLOWED;
  return rejected(`target user ${target} has power level ${targetLevel}, not below sender ${sender}'s ${level}`);
}

/** v7+ (MSC2403); v10 (MSC3787) also lets users knock on `knock_restricted` rooms. */
function authorizeKnock(event: StateEvent, state: AuthState): AuthResult {
  const { sender } = event;
  const joinRule = state.joinRule();
  if (joinRule !== 'knock' && !(state.version.auth.knockRestrictedJoinRule && joinRule === 'knock_restricted')) {
    return rejected(`the join rule ${JSON.stringify(joinRule)} does not allow knocking`);
  }
  if (sender !== event.state_key) return rejected(`sender ${sender} cannot knock as ${event.state_key}`);
  const current = state.membership(sender);
  if (current !== 'ban' && current !== 'invite' && current !== 'join') return ALLOWED;
  return rejected(`sender ${sender} cannot knock: their membership is ${describeMembership(current)}`);
}

function describeMembership(membership: unknown): string {
  return membership === undefined ? 'none' : typeof membership === 'string' ? membership : JSON.stringify(membership);
}
