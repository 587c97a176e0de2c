/**
 * Content hashes, reference hashes, event IDs and event signatures (spec appendices: "Calculating the content hash
 * for an event", "Calculating the reference hash for an event", "Signing events"; room versions: "Event IDs").
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import { decodeBase64, encodeBase64, encodeBase64UrlSafe } from './base64';
import { isObject } from './json';
import { redactEvent } from './redaction';
import type { RoomVersion } from './room-versions';
import { signJson, type SigningKey } from './signing';

type Json = Record<string, unknown>;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** sha256 over the event without `unsigned`, `signatures` and `hashes`, unpadded base64. */
export function computeContentHash(event: Json): string {
  return encodeBase64(contentHashBytes(event));
}

function contentHashBytes(event: Json): Buffer {
  const { unsigned: _u, signatures: _s, hashes: _h, ...rest } = event;
  return sha256(canonicalJson(rest));
}

/**
 * Whether `hashes.sha256` matches the event's content; false when it is missing or not Base64. As the spec says
 * ("the content hash in the `hashes` property of the received event is base64-decoded, and the two are compared"),
 * the bytes are compared, so padded Base64 is accepted too.
 */
export function contentHashMatches(event: Json): boolean {
  const hashes = event.hashes;
  if (!isObject(hashes) || typeof hashes.sha256 !== 'string') return false;
  const received = decodeBase64(hashes.sha256);
  return received !== undefined && received.equals(contentHashBytes(event));
}

/** sha256 over the redacted event without `signatures` and `unsigned`. */
export function computeReferenceHash(event: Json, version: RoomVersion): Buffer {
  const { signatures: _s, unsigned: _u, ...redacted } = redactEvent(event, version);
  return sha256(canonicalJson(redacted));
}

/**
 * The event's ID: carried in the PDU for v1/v2, derived from the reference hash from v3 on. Returns undefined when
 * a v1/v2 PDU has no usable `event_id`.
 */
export function computeEventId(event: Json, version: RoomVersion): string | undefined {
  switch (version.eventIdFormat) {
    case 'carried':
      return typeof event.event_id === 'string' ? event.event_id : undefined;
    case 'base64':
      return `$${encodeBase64(computeReferenceHash(event, version))}`;
    case 'url-safe-base64':
      return `$${encodeBase64UrlSafe(computeReferenceHash(event, version))}`;
  }
}

/** Adds the content hash and `serverName`'s signature over the redacted event, as an origin server does. */
export function hashAndSignEvent(event: Json, version: RoomVersion, serverName: string, key: SigningKey): Json {
  const hashed: Json = { ...event, hashes: { sha256: computeContentHash(event) } };
  const signedRedacted = signJson(redactEvent(hashed, version), serverName, key);
  return { ...hashed, signatures: signedRedacted.signatures };
}
