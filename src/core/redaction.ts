/**
 * The redaction algorithm (spec: room versions' "Redactions" sections). It decides what a reference hash and an
 * event signature cover, and what a server that may not see an event is sent instead.
 */
import { isObject } from './json';
import type { RoomVersion } from './room-versions';

type Json = Record<string, unknown>;

const TOP_LEVEL_KEYS = [
  'event_id', 'type', 'room_id', 'sender', 'state_key', 'content', 'hashes', 'signatures', 'depth', 'prev_events',
  'auth_events', 'origin_server_ts',
];
// Dropped in v11 (MSC2176): `origin`, `membership` and `prev_state` no longer survive redaction.
const TOP_LEVEL_KEYS_BEFORE_V11 = [...TOP_LEVEL_KEYS, 'origin', 'membership', 'prev_state'];

export function redactEvent(event: Json, version: RoomVersion): Json {
  const keep = version.redactionV11 ? TOP_LEVEL_KEYS : TOP_LEVEL_KEYS_BEFORE_V11;
  const redacted: Json = {};
  for (const key of keep) if (key in event) redacted[key] = event[key];
  const content = isObject(event.content) ? event.content : {};
  redacted.content = redactContent(String(event.type), content, version);
  return redacted;
}

/**
 * A stored PDU (a JSON string) as it is served once a redaction applies to it: the room version's redaction of it,
 * keeping `event_id`, `hashes` and `signatures` and adding nothing (Synapse's federation form of a redacted event
 * carries only `unsigned` keys besides, which receivers drop, and we send no `unsigned`).
 */
export function prunedPdu(pdu: string, version: RoomVersion): string {
  return JSON.stringify(redactEvent(JSON.parse(pdu) as Json, version));
}

function redactContent(type: string, content: Json, version: RoomVersion): Json {
  switch (type) {
    case 'm.room.member': {
      const kept = pick(content, [
        'membership',
        ...(version.redactionKeepsJoinAuthorisedVia ? ['join_authorised_via_users_server'] : []),
      ]);
      // v11+: "The `third_party_invite` key ... is no longer redacted, *but* will only contain the `signed` key after
      // redaction" (rooms/v11.md), so an object without `signed` stays as {} (as Synapse's prune_event_dict does).
      const invite = content.third_party_invite;
      if (version.redactionV11 && isObject(invite)) kept.third_party_invite = 'signed' in invite ? { signed: invite.signed } : {};
      return kept;
    }
    case 'm.room.create':
      return version.redactionV11 ? { ...content } : pick(content, ['creator']);
    case 'm.room.join_rules':
      return pick(content, ['join_rule', ...(version.redactionKeepsJoinRulesAllow ? ['allow'] : [])]);
    case 'm.room.power_levels':
      return pick(content, [
        'ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default',
        ...(version.redactionV11 ? ['invite'] : []),
      ]);
    case 'm.room.aliases':
      return version.redactionKeepsAliases ? pick(content, ['aliases']) : {};
    case 'm.room.history_visibility':
      return pick(content, ['history_visibility']);
    case 'm.room.redaction':
      return version.redactionV11 ? pick(content, ['redacts']) : {};
    default:
      return {};
  }
}

function pick(object: Json, keys: readonly string[]): Json {
  const picked: Json = {};
  for (const key of keys) if (key in object) picked[key] = object[key];
  return picked;
}
