/**
 * Matrix identifier grammar (spec appendices, "Identifier Grammar"): event IDs, room IDs and user IDs, and the
 * server name a user or room ID carries.
 */
const MAX_ID_BYTES = 255;

export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 1 && value.startsWith('$') && Buffer.byteLength(value) <= MAX_ID_BYTES;
}

// v1-v11: `!opaque:server`. v12: `!` + the create event's reference hash, URL-safe unpadded base64 (43 characters).
const ROOM_ID_WITH_SERVER = /^![\x21-\x39\x3b-\x7e]+:[A-Za-z0-9.\-]+(?::\d{1,5})?$|^![\x21-\x39\x3b-\x7e]+:\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;
const ROOM_ID_V12 = /^![A-Za-z0-9_\-]{43}$/;

export function isRoomId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    Buffer.byteLength(value) <= MAX_ID_BYTES &&
    (ROOM_ID_WITH_SERVER.test(value) || ROOM_ID_V12.test(value))
  );
}

/** The server name after the first colon of a user ID (`@localpart:server`), or undefined. */
export function serverNameOf(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  const colon = id.indexOf(':');
  return colon > 0 && colon < id.length - 1 ? id.slice(colon + 1) : undefined;
}
