/**
 * Checking a server's key response (server-server API, "Retrieving server keys"), from the server itself or
 * through a notary, and choosing the key that may verify a signature made at a given time. Pure: no network, no
 * clock, no store.
 */
import { decodeBase64 } from '../core/base64';
import { verifyJsonSignature } from '../core/signing';
import { isObject } from '../core/json';

export interface OldVerifyKey {
  readonly publicKey: string;
  readonly expiredTs: number;
}

export interface ServerKeys {
  readonly serverName: string;
  /** Key ID -> public key, only the keys that signed the response themselves. */
  readonly verifyKeys: ReadonlyMap<string, string>;
  readonly oldVerifyKeys: ReadonlyMap<string, OldVerifyKey>;
  /** As published; see usableUntil for the bound the spec puts on it. */
  readonly validUntilTs: number;
}

export interface TrustedKeyServer {
  readonly serverName: string;
  /** Key ID -> unpadded Base64 public key, from our configuration, never from the network. */
  readonly verifyKeys: Readonly<Record<string, string>>;
}

export type KeyResponseResult =
  { readonly ok: true; readonly keys: ServerKeys } | { readonly ok: false; readonly reason: string };

/**
 * A key, or why there is none. `unavailable`: the keys we store could not be read (Neo4j is down), so whether the key
 * is good is not known: the caller should answer "try again", not "unauthorised".
 */
export type KeyLookup =
  | { readonly ok: true; readonly publicKey: string }
  | { readonly ok: false; readonly reason: string; readonly unavailable?: true };

/** The spec's cap on how long a fetched key response may be used: 7 days from the fetch. */
export const WEEK = 7 * 24 * 60 * 60 * 1000;

/**
 * Checks that `json` is a key response for `serverName` that signed itself: every signature of the server by a key
 * in `verify_keys` verifies, and there is at least one. A verify key that did not sign is left out, so a key is
 * only ever used after the server has shown it holds the private half.
 */
export function checkKeyResponse(json: unknown, serverName: string): KeyResponseResult {
  if (!isObject(json)) return fail('the key response is not a JSON object');
  if (json.server_name !== serverName)
    return fail(`the key response is for server_name ${JSON.stringify(json.server_name)}, not ${serverName}`);
  if (!Number.isSafeInteger(json.valid_until_ts)) return fail('valid_until_ts is not an integer');
  if (!isObject(json.verify_keys)) return fail('verify_keys is not an object');
  const signatures = isObject(json.signatures) ? json.signatures[serverName] : undefined;
  if (!isObject(signatures)) return fail(`the key response carries no signature by ${serverName}`);

  const verifyKeys = new Map<string, string>();
  for (const [keyId, entry] of Object.entries(json.verify_keys)) {
    const publicKey = ed25519PublicKey(keyId, entry);
    if (publicKey === undefined || !(keyId in signatures)) continue;
    if (!verifies(json, serverName, keyId, publicKey))
      return fail(`the key response's signature by ${keyId} does not verify`);
    verifyKeys.set(keyId, publicKey);
  }
  if (verifyKeys.size === 0) return fail(`the key response is not signed by any of its own ed25519 verify_keys`);

  const oldVerifyKeys = new Map<string, OldVerifyKey>();
  for (const [keyId, entry] of Object.entries(isObject(json.old_verify_keys) ? json.old_verify_keys : {})) {
    const publicKey = ed25519PublicKey(keyId, entry);
    const expiredTs = isObject(entry) ? entry.expired_ts : undefined;
    if (publicKey !== undefined && Number.isSafeInteger(expiredTs))
      oldVerifyKeys.set(keyId, { publicKey, expiredTs: expiredTs as number });
  }

  return { ok: true, keys: { serverName, verifyKeys, oldVerifyKeys, validUntilTs: json.valid_until_ts as number } };
}

/**
 * Checks a notary's signature on a key response it relayed, with the notary's keys from our configuration: at
 * least one configured key signed it, and every configured key that signed it verifies. Returns a reason or undefined.
 */
export function checkNotarySignature(json: Record<string, unknown>, notary: TrustedKeyServer): string | undefined {
  let verified = 0;
  for (const [keyId, publicKey] of Object.entries(notary.verifyKeys)) {
    const signatures = isObject(json.signatures) ? json.signatures[notary.serverName] : undefined;
    if (!isObject(signatures) || !(keyId in signatures)) continue;
    if (!verifies(json, notary.serverName, keyId, publicKey))
      return `the notary ${notary.serverName}'s signature by ${keyId} does not verify`;
    verified++;
  }
  return verified > 0
    ? undefined
    : `the response is not signed by the notary ${notary.serverName} with any of its configured keys`;
}

/** "Servers MUST use the lesser of this field and 7 days into the future when determining if a key is valid." */
export function usableUntil(validUntilTs: number, fetchedTs: number): number {
  return Math.min(validUntilTs, fetchedTs + WEEK);
}

/**
 * The public key `keyId` of `keys` if it may verify a signature made at `atTs`: a current key until the
 * response's usable end, an old key only before its `expired_ts`, and old keys only when `allowOldKeys` (the spec
 * says they "are only valid for signing events", not requests).
 */
export function findVerifyKey(
  keys: ServerKeys,
  fetchedTs: number,
  keyId: string,
  atTs: number,
  allowOldKeys: boolean,
): KeyLookup {
  const current = keys.verifyKeys.get(keyId);
  if (current !== undefined) {
    const until = usableUntil(keys.validUntilTs, fetchedTs);
    return atTs <= until
      ? { ok: true, publicKey: current }
      : fail(`key ${keyId} of ${keys.serverName} is valid only until ${until}`);
  }
  const old = keys.oldVerifyKeys.get(keyId);
  if (old !== undefined) {
    if (!allowOldKeys) return fail(`key ${keyId} of ${keys.serverName} is an old key, which may not sign requests`);
    return atTs < old.expiredTs
      ? { ok: true, publicKey: old.publicKey }
      : fail(`key ${keyId} of ${keys.serverName} expired at ${old.expiredTs}`);
  }
  return fail(`unknown key ${keyId} of ${keys.serverName}`);
}

/** verifyJsonSignature, false instead of a throw for JSON that has no canonical form (a float anywhere in it). */
function verifies(json: Record<string, unknown>, serverName: string, keyId: string, publicKey: string): boolean {
  try {
    return verifyJsonSignature(json, serverName, keyId, publicKey);
  } catch {
    return false;
  }
}

function ed25519PublicKey(keyId: string, entry: unknown): string | undefined {
  if (!keyId.startsWith('ed25519:') || !isObject(entry) || typeof entry.key !== 'string') return undefined;
  return decodeBase64(entry.key)?.length === 32 ? entry.key : undefined;
}


function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
