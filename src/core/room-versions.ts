/**
 * What this service needs to know about each room version (spec: content/rooms/v1.md ... v12.md): how event IDs
 * are formed, how prev_events/auth_events are written, which redaction rules apply and what room IDs look like.
 */
export type EventIdFormat = 'carried' | 'base64' | 'url-safe-base64';

export interface RoomVersion {
  readonly id: string;
  /** v1/v2 carry `event_id` in the PDU; v3 uses the reference hash in base64, v4+ in URL-safe base64. */
  readonly eventIdFormat: EventIdFormat;
  /** v1/v2 list `[event_id, {sha256}]` pairs in prev_events and auth_events; later versions list IDs. */
  readonly referencesAreHashPairs: boolean;
  /** v1-v5 keep `aliases` of m.room.aliases when redacting; v6 dropped that exception. */
  readonly redactionKeepsAliases: boolean;
  /** v8+ keep join_rules `allow`. */
  readonly redactionKeepsJoinRulesAllow: boolean;
  /** v9+ keep member `join_authorised_via_users_server`. */
  readonly redactionKeepsJoinAuthorisedVia: boolean;
  /** v11+ ("updated redaction rules", MSC2176/MSC3821/MSC3989). */
  readonly redactionV11: boolean;
  /** v6+: every number in an event must be an integer in the canonical JSON range (no floats; MSC2540). */
  readonly strictCanonicalJson: boolean;
  /** v12: the room ID is the create event's ID with a `!` sigil and no server name; the create event has no room_id. */
  readonly roomIdIsCreateEventId: boolean;
  /** The state resolution algorithm: v1 for room version 1, v2 for 2-11, v2.1 (MSC4297) for 12. */
  readonly stateResolution: 'v1' | 'v2' | 'v2.1';
  /** Authorization rules, by the version that changed them (spec: content/rooms/v*.md, "Authorization rules"). */
  readonly auth: AuthRuleFlags;
}

export interface AuthRuleFlags {
  /** v1-v2: m.room.redaction is allowed when the redacting and redacted events' IDs share a domain (v3 moved it out). */
  readonly redactionDomainRule: boolean;
  /** v1-v5: m.room.aliases is checked against the sender's domain (v6 made it an ordinary state event). */
  readonly specialCaseAliases: boolean;
  /** v6+: power levels' `notifications` are checked like the other levels. */
  readonly notificationsPowerLevels: boolean;
  /** v7+: the `knock` join rule and membership. */
  readonly knock: boolean;
  /** v8+: the `restricted` join rule (join_authorised_via_users_server). */
  readonly restrictedJoinRule: boolean;
  /** v10+: the `knock_restricted` join rule. */
  readonly knockRestrictedJoinRule: boolean;
  /** v10+: power level values must be integers (no strings). */
  readonly integerPowerLevels: boolean;
  /** v1-v5: power level values may be floats, truncated at the decimal point (v6 enforces canonical JSON, which
   * has no floats; spec: "m.room.power_levels events accept values as floats"). */
  readonly floatPowerLevels: boolean;
  /** v11+: the room creator is the create event's sender (`creator` is no longer read). */
  readonly creatorIsCreateSender: boolean;
  /** v12+ (MSC4289, MSC4291): creators (sender and `additional_creators`) have infinite power; the create event is
   * implied by the room ID and is not listed in auth_events. */
  readonly privilegedCreators: boolean;
}

function version(id: string, n: number): RoomVersion {
  return Object.freeze({
    id,
    eventIdFormat: n <= 2 ? 'carried' : n === 3 ? 'base64' : 'url-safe-base64',
    referencesAreHashPairs: n <= 2,
    redactionKeepsAliases: n <= 5,
    redactionKeepsJoinRulesAllow: n >= 8,
    redactionKeepsJoinAuthorisedVia: n >= 9,
    redactionV11: n >= 11,
    strictCanonicalJson: n >= 6,
    roomIdIsCreateEventId: n >= 12,
    stateResolution: n === 1 ? 'v1' : n <= 11 ? 'v2' : 'v2.1',
    auth: Object.freeze({
      redactionDomainRule: n <= 2,
      specialCaseAliases: n <= 5,
      notificationsPowerLevels: n >= 6,
      knock: n >= 7,
      restrictedJoinRule: n >= 8,
      knockRestrictedJoinRule: n >= 10,
      integerPowerLevels: n >= 10,
      floatPowerLevels: n <= 5,
      creatorIsCreateSender: n >= 11,
      privilegedCreators: n >= 12,
    }),
  } satisfies RoomVersion);
}

const ROOM_VERSIONS: ReadonlyMap<string, RoomVersion> = new Map(
  Array.from({ length: 12 }, (_, i) => [String(i + 1), version(String(i + 1), i + 1)] as const),
);

export const SUPPORTED_ROOM_VERSIONS: readonly string[] = Array.from(ROOM_VERSIONS.keys());

export function getRoomVersion(id: string): RoomVersion | undefined {
  return ROOM_VERSIONS.get(id);
}

/**
 * The room version a create event declares; the spec's default is "1" when `room_version` is absent. A value that
 * is not a string is returned as its JSON text marked "(not a string)", which names no room version, so the room is refused
 * as unknown (as Synapse refuses it) rather than read as version 1.
 */
export function declaredRoomVersion(createContent: unknown): string {
  const content = createContent as { room_version?: unknown } | null | undefined;
  if (content?.room_version === undefined) return '1';
  return typeof content.room_version === 'string' ? content.room_version : `${JSON.stringify(content.room_version)} (not a string)`;
}
