/**
 * The authorization rules of room versions 1 to 12 (spec: content/rooms/v1.md ... v12.md, "Authorisation rules",
 * and server-server API, "Checks performed on receipt of a PDU"). Pure: the rules read an auth state through an
 * injected (type, state_key) lookup and return a verdict; where versions differ they branch on `version.auth`.
 * The rule on the auth_events list itself is authorizeByAuthEvents; the rules for memberships and power levels
 * events live in membership-rules.ts and power-levels-event.ts.
 *
 * Not checked here, because a StateEvent carries no signatures: "Events must be signed by the server denoted by
 * the sender property", and v8+ "If the event is not validly signed by the homeserver of the user ID denoted by
 * [join_authorised_via_users_server], reject"; both belong with the signature checks on receipt.
 */
import { authEventsSelection } from './auth-events-selection';
import { ALLOWED, rejected, type AuthResult } from './auth-result';
import { authStateOf, type AuthState, type AuthStateLookup } from './auth-state';
import { serverNameOf } from './identifiers';
import { authorizeMembership } from './membership-rules';
import { requiredPowerLevel, UnreadablePowerLevelError } from './power-levels';
import { authorizePowerLevels } from './power-levels-event';
import { declaredRoomVersion, getRoomVersion, type RoomVersion } from './room-versions';
import { stateKey, type StateEvent, type StateKey } from './state-event';
import { isValidUserId } from './user-id';

export type { AuthResult } from './auth-result';
export { authEventsSelection } from './auth-events-selection';

/**
 * The authorization rules for `event` against an auth state (type, state_key) -> event. For v12 the lookup must
 * answer ('m.room.create','') with the create event even though auth_events does not list it.
 */
export function authorize(event: StateEvent, authState: AuthStateLookup, version: RoomVersion): AuthResult {
  try {
    return authorizeAgainst(event, authState, version);
  } catch (error) {
    // A level the rules must compare is not a power level in this room version: the event cannot pass them.
    if (error instanceof UnreadablePowerLevelError) return rejected(error.message);
    throw error;
  }
}

function authorizeAgainst(event: StateEvent, lookup: AuthStateLookup, version: RoomVersion): AuthResult {
  if (event.type === 'm.room.create') return authorizeCreate(event, version);
  const create = lookup('m.room.create', '');
  if (create === undefined) return rejected('the room has no m.room.create event in the auth state');
  const createRoomId = version.roomIdIsCreateEventId ? roomIdOfCreateEvent(create) : create.room_id;
  if (event.room_id !== createRoomId) {
    return rejected(`room_id ${event.room_id} is not the room of the m.room.create event ${create.event_id}`);
  }
  if (create.content['m.federate'] === false && serverNameOf(event.sender) !== serverNameOf(create.sender)) {
    return rejected(`the room does not federate (m.federate is false) and sender ${event.sender} is not on the creator's server`);
  }
  if (version.auth.specialCaseAliases && event.type === 'm.room.aliases') return authorizeAliases(event);

  const state = authStateOf(lookup, create, version);
  if (event.type === 'm.room.member') return authorizeMembership(event, state);
  if (state.membership(event.sender) !== 'join') return rejected(`sender ${event.sender} is not joined to the room`);
  const level = state.powerLevel(event.sender);
  if (event.type === 'm.room.third_party_invite') {
    const inviteLevel = state.level('invite');
    if (level >= inviteLevel) return ALLOWED;
    return rejected(`sender ${event.sender} has power level ${level}, below the invite level ${inviteLevel}`);
  }
  const required = requiredPowerLevel(event, state.powerLevels, version);
  if (required > level) {
    return rejected(`sender ${event.sender} has power level ${level}, below the ${required} required to send ${event.type}`);
  }
  if (event.state_key?.startsWith('@') && event.state_key !== event.sender) {
    return rejected(`state_key ${event.state_key} starts with @ but is not the sender ${event.sender}`);
  }
  if (event.type === 'm.room.power_levels') return authorizePowerLevels(event, state);
  if (version.auth.redactionDomainRule && event.type === 'm.room.redaction') return authorizeRedaction(event, level, state);
  return ALLOWED;
}

function authorizeCreate(event: StateEvent, version: RoomVersion): AuthResult {
  if (event.prev_events.length > 0) return rejected('an m.room.create event must not have prev_events');
  if (version.roomIdIsCreateEventId) {
    // v12 (MSC4291): "If the event has a room_id, reject". A StateEvent always holds the room ID, derived from the
    // event ID for a v12 create event (pdu.ts); one holding anything else carried a room_id of its own.
    if (event.room_id !== '' && event.room_id !== roomIdOfCreateEvent(event)) {
      return rejected(`an m.room.create event must not have a room_id in room version ${version.id}`);
    }
  } else if (serverNameOf(event.room_id) === undefined || serverNameOf(event.room_id) !== serverNameOf(event.sender)) {
    return rejected(`the room_id ${event.room_id} is not on the server of the sender ${event.sender}`);
  }
  const { content } = event;
  if (content['room_version'] !== undefined && getRoomVersion(declaredRoomVersion(content)) === undefined) {
    return rejected(`content.room_version ${JSON.stringify(content['room_version'])} is not a known room version`);
  }
  if (version.auth.privilegedCreators && content['additional_creators'] !== undefined) {
    const additional = content['additional_creators'];
    if (!Array.isArray(additional) || !additional.every(isValidUserId)) {
      return rejected('content.additional_creators is not a list of user IDs');
    }
  }
  if (!version.auth.creatorIsCreateSender && content['creator'] === undefined) {
    return rejected(`an m.room.create event must have content.creator in room version ${version.id}`);
  }
  return ALLOWED;
}

/** v1-v5: a server may publish its own aliases for the room (its domain is the state_key), member or not. */
function authorizeAliases(event: StateEvent): AuthResult {
  if (event.state_key === null) return rejected('an m.room.aliases event must have a state_key');
  if (serverNameOf(event.sender) !== event.state_key) {
    return rejected(`the state_key ${event.state_key} of m.room.aliases is not the domain of the sender ${event.sender}`);
  }
  return ALLOWED;
}

/** v1-v2: the redact level, or a redaction of an event its own server sent (v3 moved this to "Handling redactions"). */
function authorizeRedaction(event: StateEvent, level: number, state: AuthState): AuthResult {
  const redactLevel = state.level('redact');
  if (level >= redactLevel) return ALLOWED;
  const redactedDomain = serverNameOf(event.redacts);
  if (redactedDomain !== undefined && redactedDomain === serverNameOf(event.event_id)) return ALLOWED;
  return rejected(
    `sender ${event.sender} has power level ${level}, below the redact level ${redactLevel}, and the redacted event ` +
      `${event.redacts ?? '(none)'} is not from the domain of the redaction ${event.event_id}`,
  );
}

/**
 * Check on receipt against the event's own auth_events (spec: "Checks performed on receipt of a PDU", "passes
 * authorization rules based on the event's auth events"): first the rules on the auth_events list itself, then
 * authorize() with those events as the state. `authEvents` are the listed events that are known (one that is not
 * cannot be checked, and is passed over: fetching it is the caller's business); `create` is the room's create
 * event, which v12 does not list; `isRejected(id)` says whether a listed auth event was rejected.
 */
export function authorizeByAuthEvents(
  event: StateEvent,
  authEvents: readonly StateEvent[],
  create: StateEvent | undefined,
  isRejected: (eventId: string) => boolean,
  version: RoomVersion,
): AuthResult {
  if (event.type === 'm.room.create') return authorize(event, () => undefined, version);
  if (version.roomIdIsCreateEventId) {
    // v12 rule 2: "If the event's room_id is not an event ID for an accepted (not rejected) m.room.create event".
    if (create === undefined || event.room_id !== roomIdOfCreateEvent(create)) {
      return rejected(`room_id ${event.room_id} is not the ID of a known m.room.create event`);
    }
    if (isRejected(create.event_id)) return rejected(`the m.room.create event ${create.event_id} was rejected`);
  }
  const listed = new Set(event.auth_events);
  const entries = [...new Map(authEvents.filter((e) => listed.has(e.event_id)).map((e) => [e.event_id, e])).values()];
  const problem = authEventsProblem(event, entries, isRejected, version);
  if (problem !== undefined) return rejected(problem);

  const byKey = new Map<StateKey, StateEvent>(entries.map((e) => [stateKey(e.type, e.state_key ?? ''), e]));
  const createKey = stateKey('m.room.create', '');
  if (!version.roomIdIsCreateEventId && !byKey.has(createKey)) return rejected('auth_events does not list the m.room.create event');
  return authorize(event, (type, key) => {
    const k = stateKey(type, key);
    return version.roomIdIsCreateEventId && k === createKey ? create : byKey.get(k);
  }, version);
}

/**
 * The rules on the auth_events list, in the spec's order: duplicates, selection, rejected entries, other rooms; an
 * entry that is not a state event at all first (it fails the selection rule, and has no state key to compare).
 */
function authEventsProblem(
  event: StateEvent,
  entries: readonly StateEvent[],
  isRejected: (eventId: string) => boolean,
  version: RoomVersion,
): string | undefined {
  const notState = entries.find((entry) => entry.state_key === null);
  if (notState !== undefined) return `auth event ${notState.event_id} is not a state event`;
  const seen = new Set<StateKey>();
  for (const entry of entries) {
    const key = stateKey(entry.type, entry.state_key ?? '');
    if (seen.has(key)) return `auth_events lists more than one ${entry.type} event with state_key ${JSON.stringify(entry.state_key)}`;
    seen.add(key);
  }
  const selected = new Set(authEventsSelection(event, version).map(([type, key]) => stateKey(type, key)));
  for (const entry of entries) {
    if (version.roomIdIsCreateEventId && entry.type === 'm.room.create' && entry.state_key === '') {
      return `auth_events must not list the m.room.create event in room version ${version.id}`;
    }
    if (entry.state_key === null || !selected.has(stateKey(entry.type, entry.state_key))) {
      return `auth event ${entry.event_id} (${entry.type}, ${JSON.stringify(entry.state_key)}) is not in the auth events selection`;
    }
  }
  const rejectedEntry = entries.find((entry) => isRejected(entry.event_id));
  if (rejectedEntry !== undefined) return `auth event ${rejectedEntry.event_id} was itself rejected`;
  const elsewhere = entries.find((entry) => entry.room_id !== event.room_id);
  if (elsewhere !== undefined) return `auth event ${elsewhere.event_id} belongs to room ${elsewhere.room_id}, not ${event.room_id}`;
  return undefined;
}

/** v12 (MSC4291): the room ID is the create event's ID with the sigil `!` instead of `$`. */
function roomIdOfCreateEvent(create: StateEvent): string {
  return `!${create.event_id.slice(1)}`;
}
