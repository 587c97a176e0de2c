/**
 * The signature check of a third-party invite (spec: room versions' authorization rules, membership `invite`
 * with `third_party_invite`, "If any signature in `signed` matches any public key in the
 * `m.room.third_party_invite` event, allow"; server-server API, "Verifying the invite"). The identity server
 * signed the `signed` object with the key it gave the inviter, which the m.room.third_party_invite event carries.
 */
import { CanonicalJsonError } from './canonical-json';
import { isObject, type JsonObject } from './json';
import { signedBytes, verifyBytes } from './signing';
import type { StateEvent } from './state-event';

/**
 * Whether any ed25519 signature in `signed.signatures` verifies with any of the invite's public keys. Only
 * `ed25519:` key IDs are tried: the keys are Ed25519 keys (as Synapse skips the others).
 */
export function isSignedByInviteKey(signed: JsonObject, thirdPartyInvite: StateEvent): boolean {
  const keys = invitePublicKeys(thirdPartyInvite);
  const signatures = signed['signatures'];
  if (keys.length === 0 || !isObject(signatures)) return false;
  let bytes: string;
  try {
    bytes = signedBytes(signed);
  } catch (error) {
    // A `signed` object with no canonical JSON form (a float, a lone surrogate) cannot carry a valid signature.
    if (error instanceof CanonicalJsonError) return false;
    throw error;
  }
  for (const byKeyId of Object.values(signatures)) {
    if (!isObject(byKeyId)) continue;
    for (const [keyId, signature] of Object.entries(byKeyId)) {
      if (!keyId.startsWith('ed25519:') || typeof signature !== 'string') continue;
      if (keys.some((key) => verifiesQuietly(key, bytes, signature))) return true;
    }
  }
  return false;
}

/** The public keys of an m.room.third_party_invite: `public_key`, and each `public_keys[].public_key`. */
export function invitePublicKeys(thirdPartyInvite: StateEvent): string[] {
  const keys: string[] = [];
  const single = thirdPartyInvite.content['public_key'];
  if (typeof single === 'string') keys.push(single);
  const list = thirdPartyInvite.content['public_keys'];
  if (Array.isArray(list)) {
    for (const entry of list) {
      const key = isObject(entry) ? entry['public_key'] : undefined;
      if (typeof key === 'string') keys.push(key);
    }
  }
  return keys;
}

/** 32 arbitrary bytes need not be a point on the curve; node:crypto may refuse such a key rather than say false. */
function verifiesQuietly(publicKey: string, bytes: string, signature: string): boolean {
  try {
    return verifyBytes(publicKey, bytes, signature);
  } catch {
    return false;
  }
}
