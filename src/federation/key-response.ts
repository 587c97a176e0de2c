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

/** A key, or why the keys held have none for a signature at that time. */
export type KeyMatch = { readonly ok: true; readonly publicKey: string } | { readonly ok: false; readonly reason: string };

/**
 * A key, or why there is none. `reason` is the detail, for our log only: it may name addresses, DNS and TLS errors
 * of our network. `message` is what the caller may be told, one sentence per `problem`:
 * - `unknown-key`: the server's keys are known (or it answered) but hold no key of that ID usable at that time;
 * - `keys-unavailable`: no usable answer from the server or a notary (down, refused, timed out, invalid);
 * - `store-unavailable`: the keys we store could not be read (Neo4j is down), so whether the key is good is not
 *   known: the caller should answer "try again", not "unauthorised";
 * - `busy`: too many requests already wait on key fetches; also "try again".
 * `unavailable` is set for the last two.
 */
export type KeyLookup =
  | { readonly ok: true; readonly publicKey: string }
  | {
      readonly ok: false;
      readonly problem: 'unknown-key' | 'keys-unavailable';
      readonly message: string;
      readonly reason: string;
      readonly unavailable?: undefined;
    }
  | {
      readonly ok: false;
      readonly problem: 'store-unavailable' | 'busy';
      readonly message: string;
      readonly reason: string;
      readonly unavailable: true;
    };

export type KeyProblem = (KeyLookup & { ok: false })['problem'];

/** The one sentence a caller is told for each problem; the same whatever the server, the key or the cause. */
export const KEY_PROBLEM_MESSAGES: Readonly<Record<KeyProblem, string>> = {
  'unknown-key': 'The origin server has no key of that ID that may sign this request.',
  'keys-unavailable': "The origin server's signing keys could not be fetched.",
  'store-unavailable': "The origin server's signing keys cannot be read at the moment; retry shortly.",
  busy: 'Too many requests are waiting for signing keys; retry shortly.',
};

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
 * One key of a server as we hold it: of every response that listed this key ID, the one valid the longest, as
 * Synapse's keyring keeps keys (per key ID, the highest valid_until_ts wins). So a stale answer, say a notary's
 * from last week, never replaces what a fresher one told us, and it is never used for a signature made now.
 */
export interface HeldKey<Source> {
  readonly publicKey: string;
  /** A current key: usableUntil(valid_until_ts, fetched); an old key: its expired_ts. */
  readonly validUntilTs: number;
  /** Listed in old_verify_keys: it verifies events signed before validUntilTs, never requests. */
  readonly old: boolean;
  /** Where it came from (the response to store again). */
  readonly source: Source;
}

export type HeldKeys<Source> = ReadonlyMap<string, HeldKey<Source>>;

/** The keys of one checked response, fetched at `fetchedTs`. */
export function heldKeysOf<Source>(keys: ServerKeys, fetchedTs: number, source: Source): Map<string, HeldKey<Source>> {
  const held = new Map<string, HeldKey<Source>>();
  for (const [keyId, old] of keys.oldVerifyKeys)
    held.set(keyId, { publicKey: old.publicKey, validUntilTs: old.expiredTs, old: true, source });
  const validUntilTs = usableUntil(keys.validUntilTs, fetchedTs);
  for (const [keyId, publicKey] of keys.verifyKeys) {
    const other = held.get(keyId);
    if (other === undefined || other.validUntilTs <= validUntilTs) held.set(keyId, { publicKey, validUntilTs, old: false, source });
  }
  return held;
}

/** `known` with each key of `fresh` that is valid longer than the one held under its ID (or that is new). */
export function mergeHeldKeys<Source>(known: HeldKeys<Source>, fresh: HeldKeys<Source>): Map<string, HeldKey<Source>> {
  const merged = new Map(known);
  for (const [keyId, key] of fresh) {
    const held = merged.get(keyId);
    if (held === undefined || held.validUntilTs < key.validUntilTs) merged.set(keyId, key);
  }
  return merged;
}

/**
 * The public key `keyId` if it may verify a signature made at `atTs`: a current key until its usable end, an old
 * key before its expired_ts and only when `allowOldKeys` (old keys "are only valid for signing events").
 */
export function lookUpHeldKey<Source>(
  held: HeldKeys<Source>,
  serverName: string,
  keyId: string,
  atTs: number,
  allowOldKeys: boolean,
): KeyMatch {
  const key = held.get(keyId);
  if (key === undefined) return fail(`unknown key ${keyId} of ${serverName}`);
  if (!key.old) {
    return atTs <= key.validUntilTs
      ? { ok: true, publicKey: key.publicKey }
      : fail(`key ${keyId} of ${serverName} is valid only until ${key.validUntilTs}`);
  }
  if (!allowOldKeys) return fail(`key ${keyId} of ${serverName} is an old key, which may not sign requests`);
  return atTs < key.validUntilTs
    ? { ok: true, publicKey: key.publicKey }
    : fail(`key ${keyId} of ${serverName} expired at ${key.validUntilTs}`);
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
