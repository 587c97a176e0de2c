/**
 * JSON signing against the spec's "Cryptographic Test Vectors" (content/appendices.md: "Signing Key", "JSON Signing")
 * and "Signing Details" / "Checking for a Signature", with tweetnacl as an independent ed25519 implementation.
 */
import nacl from 'tweetnacl';
import { decodeBase64, encodeBase64 } from '../../src/core/base64';
import {
  formatSigningKeyFile,
  generateSigningKey,
  parseSigningKeyFile,
  signBytes,
  signedBytes,
  signingKeyFromSeed,
  signJson,
  verifyBytes,
  verifyJsonSignature,
} from '../../src/core/signing';

const SEED_TEXT = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';
const SEED = decodeBase64(SEED_TEXT)!;
const SERVER_NAME = 'domain';
const KEY_ID = 'ed25519:1';
const key = signingKeyFromSeed('1', SEED);
const naclPair = nacl.sign.keyPair.fromSeed(SEED);
const PUBLIC_KEY = encodeBase64(naclPair.publicKey);

const EMPTY_SIGNATURE = 'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ';
const ONE_TWO_SIGNATURE = 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw';

function naclSign(message: string): string {
  return encodeBase64(nacl.sign.detached(Buffer.from(message, 'utf8'), naclPair.secretKey));
}

describe('the spec signing key', () => {
  it('decodes the 43-character seed to 32 bytes', () => {
    expect(SEED.length).toBe(32);
  });

  it('derives the same public key as tweetnacl', () => {
    expect(key.keyId).toBe(KEY_ID);
    expect(key.publicKey).toBe(PUBLIC_KEY);
    expect(Buffer.from(key.seed)).toEqual(SEED);
  });
});

describe('signJson: the spec "JSON Signing" vectors', () => {
  it('signs {}', () => {
    expect(signJson({}, SERVER_NAME, key)).toEqual({ signatures: { domain: { [KEY_ID]: EMPTY_SIGNATURE } } });
    expect(naclSign('{}')).toBe(EMPTY_SIGNATURE);
  });

  it('signs {"one":1,"two":"Two"}', () => {
    expect(signJson({ one: 1, two: 'Two' }, SERVER_NAME, key)).toEqual({
      one: 1,
      signatures: { domain: { [KEY_ID]: ONE_TWO_SIGNATURE } },
      two: 'Two',
    });
    expect(naclSign('{"one":1,"two":"Two"}')).toBe(ONE_TWO_SIGNATURE);
  });

  it('leaves unsigned and existing signatures out of the signed bytes but in the result', () => {
    const input = {
      two: 'Two',
      unsigned: { age_ts: 922834800000 },
      one: 1,
      signatures: { 'other.example': { 'ed25519:x': 'c2lnbmF0dXJl' }, domain: { 'ed25519:0': 'b2xk' } },
    };
    expect(signedBytes(input)).toBe('{"one":1,"two":"Two"}');
    const signed = signJson(input, SERVER_NAME, key);
    expect(signed).toEqual({
      one: 1,
      two: 'Two',
      unsigned: { age_ts: 922834800000 },
      signatures: {
        'other.example': { 'ed25519:x': 'c2lnbmF0dXJl' },
        domain: { 'ed25519:0': 'b2xk', [KEY_ID]: ONE_TWO_SIGNATURE },
      },
    });
    expect(input.signatures.domain).toEqual({ 'ed25519:0': 'b2xk' }); // the input is not mutated
  });

  it('signBytes agrees with tweetnacl on arbitrary UTF-8', () => {
    const message = '{"a":"日本語","b":"😀"}';
    expect(signBytes(key, message)).toBe(naclSign(message));
  });
});

describe('verifyJsonSignature', () => {
  const signed: Record<string, unknown> = signJson({ one: 1, two: 'Two' }, SERVER_NAME, key);

  it('accepts the spec vectors', () => {
    expect(verifyJsonSignature(signed, SERVER_NAME, KEY_ID, PUBLIC_KEY)).toBe(true);
    expect(verifyJsonSignature({ signatures: { domain: { [KEY_ID]: EMPTY_SIGNATURE } } }, SERVER_NAME, KEY_ID, PUBLIC_KEY)).toBe(
      true,
    );
  });

  it('ignores unsigned and other signatures, as they are not covered', () => {
    const extra = {
      ...signed,
      unsigned: { age: 5 },
      signatures: { ...(signed.signatures as object), 'other.example': { 'ed25519:x': 'AAAA' } },
    };
    expect(verifyJsonSignature(extra, SERVER_NAME, KEY_ID, PUBLIC_KEY)).toBe(true);
  });

  it('accepts a padded signature (decoders SHOULD accept padding)', () => {
    const padded = { ...signed, signatures: { domain: { [KEY_ID]: `${ONE_TWO_SIGNATURE}==` } } };
    expect(verifyJsonSignature(padded, SERVER_NAME, KEY_ID, PUBLIC_KEY)).toBe(true);
  });

  it('rejects tampered content', () => {
    expect(verifyJsonSignature({ ...signed, one: 2 }, SERVER_NAME, KEY_ID, PUBLIC_KEY)).toBe(false);
    expect(verifyJsonSignature({ ...signed, three: 3 }, SERVER_NAME, KEY_ID, PUBLIC_KEY)).toBe(false);
    const { two: _two, ...withoutTwo } = signed;
    expect(verifyJsonSignature(withoutTwo, SERVER_NAME, KEY_ID, PUBLIC_KEY)).toBe(false);
  });

  it('rejects the wrong key, server name or key ID', () => {
    const other = signingKeyFromSeed('1', new Uint8Array(32).fill(7));
    expect(verifyJsonSignature(signed, SERVER_NAME, KEY_ID, other.publicKey)).toBe(false);
    expect(verifyJsonSignature(signed, 'other.example', KEY_ID, PUBLIC_KEY)).toBe(false);
    expect(verifyJsonSignature(signed, SERVER_NAME, 'ed25519:2', PUBLIC_KEY)).toBe(false);
  });

  it.each([
    ['missing signatures', {}],
    ['non-string signature', { domain: { [KEY_ID]: 12 } }],
    ['non-object server entry', { domain: 'x' }],
    ['non-Base64 signature', { domain: { [KEY_ID]: '!!not base64!!' } }],
    ['truncated signature', { domain: { [KEY_ID]: ONE_TWO_SIGNATURE.slice(0, -4) } }],
    ['over-long signature', { domain: { [KEY_ID]: `${ONE_TWO_SIGNATURE}AAAA` } }],
    ['one flipped signature character', { domain: { [KEY_ID]: `A${ONE_TWO_SIGNATURE.slice(1)}` } }],
    ['empty signature', { domain: { [KEY_ID]: '' } }],
  ])('returns false for a %s', (_name, signatures) => {
    expect(verifyJsonSignature({ one: 1, two: 'Two', signatures }, SERVER_NAME, KEY_ID, PUBLIC_KEY)).toBe(false);
  });

  it.each([
    ['non-Base64', '***'],
    ['31-byte', encodeBase64(new Uint8Array(31))],
    ['33-byte', encodeBase64(new Uint8Array(33))],
    ['empty', ''],
  ])('returns false for a %s public key instead of throwing', (_name, publicKey) => {
    expect(verifyJsonSignature(signed, SERVER_NAME, KEY_ID, publicKey)).toBe(false);
    expect(verifyBytes(publicKey, '{}', EMPTY_SIGNATURE)).toBe(false);
  });
});

describe('signing key files', () => {
  it('parses the spec seed and formats it canonically', () => {
    const [parsed, ...rest] = parseSigningKeyFile(`ed25519 1 ${SEED_TEXT}\n`);
    expect(rest).toEqual([]);
    expect(parsed!.keyId).toBe(KEY_ID);
    expect(parsed!.publicKey).toBe(PUBLIC_KEY);
    expect(signJson<Record<string, unknown>>({}, SERVER_NAME, parsed!).signatures).toEqual({ domain: { [KEY_ID]: EMPTY_SIGNATURE } });
    // The spec's seed text has non-zero padding bits in its last character; re-encoding clears them.
    expect(formatSigningKeyFile(parsed!)).toBe('ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0\n');
  });

  it('round-trips several keys, ignoring blank lines, surrounding spaces and CRLF', () => {
    const keys = [generateSigningKey('a_1'), generateSigningKey('Zz9'), signingKeyFromSeed('1', SEED)];
    const text = `\n${keys.map((k) => `  ${formatSigningKeyFile(k).trimEnd()}  \r\n`).join('\n')}\n`;
    const parsed = parseSigningKeyFile(text);
    expect(parsed.map((k) => [k.keyId, k.publicKey, Buffer.from(k.seed).toString('hex')])).toEqual(
      keys.map((k) => [k.keyId, k.publicKey, Buffer.from(k.seed).toString('hex')]),
    );
    expect(parsed.map(formatSigningKeyFile).join('')).toBe(keys.map(formatSigningKeyFile).join(''));
  });

  it('accepts a padded seed', () => {
    expect(parseSigningKeyFile(`ed25519 1 ${SEED_TEXT}=`)[0]!.publicKey).toBe(PUBLIC_KEY);
  });

  it('parses an empty file as no keys', () => {
    expect(parseSigningKeyFile('')).toEqual([]);
    expect(parseSigningKeyFile('\n \n')).toEqual([]);
  });

  it.each([
    ['wrong algorithm', `curve25519 1 ${SEED_TEXT}`],
    ['missing seed', 'ed25519 1'],
    ['missing version and seed', 'ed25519'],
    ['short seed', `ed25519 1 ${encodeBase64(new Uint8Array(31))}`],
    ['long seed', `ed25519 1 ${encodeBase64(new Uint8Array(33))}`],
    ['non-Base64 seed', 'ed25519 1 ???????????????????????????????????????????'],
    ['extra field', `ed25519 1 ${SEED_TEXT} extra`],
    ['bad version characters', `ed25519 a:b ${SEED_TEXT}`],
  ])('rejects a line with a %s', (_name, line) => {
    expect(() => parseSigningKeyFile(line)).toThrow();
  });

  it('names the offending line, counting blank lines', () => {
    expect(() => parseSigningKeyFile(`ed25519 1 ${SEED_TEXT}\n\nnonsense\n`)).toThrow(/line 3\b/);
  });

  it('rejects bad versions and seed lengths in signingKeyFromSeed', () => {
    expect(() => signingKeyFromSeed('', SEED)).toThrow();
    expect(() => signingKeyFromSeed('a-b', SEED)).toThrow();
    expect(() => signingKeyFromSeed('1', new Uint8Array(31))).toThrow();
  });
});
