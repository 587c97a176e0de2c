/** Checking key responses and choosing keys (server-server API, "Retrieving server keys"), with no network. */
import { signingKeyFromSeed, signJson } from '../../src/core/signing';
import {
  checkKeyResponse,
  checkNotarySignature,
  heldKeysOf,
  lookUpHeldKey,
  mergeHeldKeys,
  type ServerKeys,
  usableUntil,
} from '../../src/federation/key-response';
import { SPEC_KEY } from '../helpers/spec-signing-key';

const DAY = 24 * 60 * 60 * 1000;
const NOW = 1_700_000_000_000;
const key1 = SPEC_KEY;
const key2 = signingKeyFromSeed('2', new Uint8Array(32).fill(2));
const oldKey = signingKeyFromSeed('old', new Uint8Array(32).fill(3));
const notaryKey = signingKeyFromSeed('n', new Uint8Array(32).fill(4));

function response(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    server_name: 'a.example',
    valid_until_ts: NOW + DAY,
    verify_keys: { [key1.keyId]: { key: key1.publicKey } },
    old_verify_keys: { [oldKey.keyId]: { key: oldKey.publicKey, expired_ts: NOW - DAY } },
    ...overrides,
  };
}

function keysOf(json: unknown) {
  const checked = checkKeyResponse(json, 'a.example');
  if (!checked.ok) throw new Error(checked.reason);
  return checked.keys;
}

function reasonFor(json: unknown): string {
  const checked = checkKeyResponse(json, 'a.example');
  if (checked.ok) throw new Error('expected a rejection');
  return checked.reason;
}

describe('checkKeyResponse', () => {
  it('accepts a response signed by its verify key, with its old keys', () => {
    const keys = keysOf(signJson(response(), 'a.example', key1));
    expect([...keys.verifyKeys]).toEqual([[key1.keyId, key1.publicKey]]);
    expect([...keys.oldVerifyKeys]).toEqual([[oldKey.keyId, { publicKey: oldKey.publicKey, expiredTs: NOW - DAY }]]);
    expect(keys.validUntilTs).toBe(NOW + DAY);
  });

  it('rejects a response for another server', () => {
    expect(reasonFor(signJson(response({ server_name: 'b.example' }), 'b.example', key1))).toBe(
      'the key response is for server_name "b.example", not a.example',
    );
  });

  it('rejects a response with no signature by the server, or none by its own verify keys', () => {
    expect(reasonFor(response())).toBe('the key response carries no signature by a.example');
    expect(reasonFor(signJson(response(), 'a.example', key2))).toBe(
      'the key response is not signed by any of its own ed25519 verify_keys',
    );
  });

  it('rejects a response whose signature does not verify', () => {
    const signed = signJson(response(), 'a.example', key1);
    expect(reasonFor({ ...signed, valid_until_ts: NOW + 365 * DAY })).toBe(
      "the key response's signature by ed25519:1 does not verify",
    );
  });

  it('leaves out verify keys that did not sign the response', () => {
    const json = signJson(
      response({ verify_keys: { [key1.keyId]: { key: key1.publicKey }, [key2.keyId]: { key: key2.publicKey } } }),
      'a.example',
      key1,
    );
    expect([...keysOf(json).verifyKeys.keys()]).toEqual([key1.keyId]);
  });

  it('rejects malformed responses', () => {
    expect(reasonFor('keys')).toBe('the key response is not a JSON object');
    const signed = signJson(response(), 'a.example', key1);
    expect(reasonFor({ ...signed, valid_until_ts: 1.5 })).toBe('valid_until_ts is not an integer');
    expect(reasonFor({ ...signed, extra: 0.5 })).toBe("the key response's signature by ed25519:1 does not verify");
    expect(reasonFor({ ...response(), verify_keys: [] })).toBe('verify_keys is not an object');
  });

  it('skips malformed old keys', () => {
    const json = signJson(
      response({
        old_verify_keys: {
          'ed25519:x': { key: oldKey.publicKey },
          'ed25519:y': 'k',
          [oldKey.keyId]: { key: oldKey.publicKey, expired_ts: 5 },
        },
      }),
      'a.example',
      key1,
    );
    expect([...keysOf(json).oldVerifyKeys.keys()]).toEqual([oldKey.keyId]);
  });
});

describe('lookUpHeldKey', () => {
  const keys = keysOf(signJson(response(), 'a.example', key1));
  /** The keys of one response fetched at `fetchedTs`, as the key fetcher holds them. */
  const held = (serverKeys: ServerKeys, fetchedTs: number = NOW) => heldKeysOf(serverKeys, fetchedTs, `fetched at ${fetchedTs}`);
  const findVerifyKey = (serverKeys: ServerKeys, fetchedTs: number, keyId: string, atTs: number, allowOldKeys: boolean) =>
    lookUpHeldKey(held(serverKeys, fetchedTs), 'a.example', keyId, atTs, allowOldKeys);

  it('uses a current key until valid_until_ts', () => {
    expect(findVerifyKey(keys, NOW, key1.keyId, NOW + DAY, false)).toEqual({ ok: true, publicKey: key1.publicKey });
    expect(findVerifyKey(keys, NOW, key1.keyId, NOW + DAY + 1, false)).toEqual({
      ok: false,
      reason: `key ed25519:1 of a.example is valid only until ${NOW + DAY}`,
    });
  });

  it('uses the lesser of valid_until_ts and 7 days after the fetch', () => {
    const longLived = keysOf(signJson(response({ valid_until_ts: NOW + 365 * DAY }), 'a.example', key1));
    expect(usableUntil(NOW + 365 * DAY, NOW)).toBe(NOW + 7 * DAY);
    expect(findVerifyKey(longLived, NOW, key1.keyId, NOW + 7 * DAY, false).ok).toBe(true);
    expect(findVerifyKey(longLived, NOW, key1.keyId, NOW + 7 * DAY + 1, false).ok).toBe(false);
  });

  it('uses an old key only for signatures made before its expired_ts, and never for requests', () => {
    expect(findVerifyKey(keys, NOW, oldKey.keyId, NOW - DAY - 1, true)).toEqual({
      ok: true,
      publicKey: oldKey.publicKey,
    });
    expect(findVerifyKey(keys, NOW, oldKey.keyId, NOW - DAY, true)).toEqual({
      ok: false,
      reason: `key ed25519:old of a.example expired at ${NOW - DAY}`,
    });
    expect(findVerifyKey(keys, NOW, oldKey.keyId, NOW - DAY - 1, false)).toEqual({
      ok: false,
      reason: 'key ed25519:old of a.example is an old key, which may not sign requests',
    });
  });

  it('names an unknown key', () => {
    expect(findVerifyKey(keys, NOW, 'ed25519:nope', NOW, true)).toEqual({
      ok: false,
      reason: 'unknown key ed25519:nope of a.example',
    });
  });

  it('keeps, for each key ID, the version valid the longest, whatever order the responses come in (issue 19, item 11)', () => {
    const fresh = held(keys, NOW); // key1 until NOW + DAY
    // A notary's copy from a week ago: key1 valid until 6 days ago, key2 then current.
    const staleJson = response({
      valid_until_ts: NOW - 6 * DAY,
      verify_keys: { [key1.keyId]: { key: key1.publicKey }, [key2.keyId]: { key: key2.publicKey } },
    });
    const stale = held(keysOf(signJson(signJson(staleJson, 'a.example', key1), 'a.example', key2)), NOW - 7 * DAY);
    for (const merged of [mergeHeldKeys(fresh, stale), mergeHeldKeys(stale, fresh)]) {
      expect(merged.get(key1.keyId)).toEqual({ publicKey: key1.publicKey, validUntilTs: NOW + DAY, old: false, source: `fetched at ${NOW}` });
      // key2 is known only from the stale copy: usable for what it signed then, not for a request now.
      expect(lookUpHeldKey(merged, 'a.example', key2.keyId, NOW - 6 * DAY, false)).toEqual({ ok: true, publicKey: key2.publicKey });
      expect(lookUpHeldKey(merged, 'a.example', key2.keyId, NOW, false)).toEqual({
        ok: false,
        reason: `key ed25519:2 of a.example is valid only until ${NOW - 6 * DAY}`,
      });
    }
  });
});

describe('checkNotarySignature', () => {
  const notary = { serverName: 'notary.example', verifyKeys: { [notaryKey.keyId]: notaryKey.publicKey } };
  const selfSigned = signJson(response(), 'a.example', key1);

  it('accepts a response signed by the notary with a configured key', () => {
    expect(checkNotarySignature(signJson(selfSigned, 'notary.example', notaryKey), notary)).toBeUndefined();
  });

  it('rejects one the notary did not sign, or signed with a key we do not know', () => {
    expect(checkNotarySignature(selfSigned, notary)).toBe(
      'the response is not signed by the notary notary.example with any of its configured keys',
    );
    expect(checkNotarySignature(signJson(selfSigned, 'notary.example', key2), notary)).toBe(
      'the response is not signed by the notary notary.example with any of its configured keys',
    );
  });

  it('rejects one whose notary signature does not verify', () => {
    const signed = signJson(selfSigned, 'notary.example', notaryKey);
    expect(checkNotarySignature({ ...signed, valid_until_ts: NOW + 2 * DAY }, notary)).toBe(
      "the notary notary.example's signature by ed25519:n does not verify",
    );
  });
});
