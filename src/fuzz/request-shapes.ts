/**
 * fast-check generators for the request's framing rather than its body (issue 19, items 2 and 14): extra
 * `Authorization` headers beside the signed one (copies, other origins, other destinations, unknown keys, malformed
 * ones, other schemes, up to hundreds of them), and a Content-Encoding that the body does or does not match (gzip,
 * deflate and br, whole, truncated, corrupted or not encoded at all, and encodings we do not decode). Each shape says
 * whether a 200 is still possible, so the endpoint property can check that no other shape gets one.
 */
import { brotliCompressSync, brotliDecompressSync, deflateSync, gzipSync, gunzipSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { generateSigningKey, type SigningKey } from '../core/signing';
import { authorizationHeader, MAX_X_MATRIX_HEADERS, signRequest, type SignedRequest } from '../core/x-matrix';

/** One extra Authorization header, sent beside the request's own. */
export type ExtraAuthorization =
  | { readonly kind: 'copy' }
  | { readonly kind: 'unknown-key' }
  | { readonly kind: 'other-origin' }
  | { readonly kind: 'wrong-destination' }
  | { readonly kind: 'malformed'; readonly text: string }
  | { readonly kind: 'other-scheme'; readonly text: string };

export interface ExtraAuthorizations {
  readonly headers: readonly ExtraAuthorization[];
  /** Whether the extra headers go before the request's own. */
  readonly first: boolean;
}

const MALFORMED = [
  'X-Matrix nonsense',
  'X-Matrix origin="unclosed',
  'X-Matrix origin=evil.fuzz.test.,key=ed25519:a,sig=x',
  'X-Matrix origin=a..fuzz.test,key=ed25519:a,sig=x',
  'X-Matrix origin=1.2.3.4.,key=ed25519:a,sig=x',
  'X-Matrix origin=fuzz1.test,key=nocolon,sig=x',
  'X-Matrix origin=fuzz1.test,key=ed25519:a',
  'X-Matrix  ,,',
];

const extraAuthorization: fc.Arbitrary<ExtraAuthorization> = fc.oneof(
  fc.constantFrom<ExtraAuthorization>({ kind: 'copy' }, { kind: 'unknown-key' }, { kind: 'other-origin' }, { kind: 'wrong-destination' }),
  fc.constantFrom(...MALFORMED).map((text): ExtraAuthorization => ({ kind: 'malformed', text })),
  fc.constantFrom('Bearer abc', 'Basic dXNlcjpwYXNz', 'Negotiate', '').map((text): ExtraAuthorization => ({ kind: 'other-scheme', text })),
);

/** Mostly none; sometimes a few of any shape; now and then many of one shape (240 origins, say). */
export const extraAuthorizations: fc.Arbitrary<ExtraAuthorizations> = fc.record({
  headers: fc.oneof(
    { weight: 12, arbitrary: fc.constant([]) },
    { weight: 3, arbitrary: fc.array(extraAuthorization, { minLength: 1, maxLength: 6 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(extraAuthorization, fc.constantFrom(MAX_X_MATRIX_HEADERS, 10, 60, 240))
        .map(([header, count]) => Array.from({ length: count }, () => header))
        .map((headers) => Object.assign(headers, { [fc.toStringMethod]: () => `${headers.length} x ${JSON.stringify(headers[0])}` })),
    },
  ),
  first: fc.boolean(),
});

const unknownKey: SigningKey = generateSigningKey('unknownfuzz');

/**
 * The Authorization header values to send: the request's own (`own`, absent for an unsigned request) and the extra
 * ones. `signed` is what the request's own header signed, to sign the extras that are real signatures.
 */
export function authorizationHeaders(own: string | undefined, extras: ExtraAuthorizations, signed: SignedRequest & { readonly destination: string }): string[] {
  const built = extras.headers.map((extra, i) => {
    switch (extra.kind) {
      case 'copy':
        return own ?? 'Bearer no-own-header';
      case 'unknown-key':
        try {
          return signRequest({ ...signed, key: unknownKey });
        } catch {
          // A body with no canonical JSON cannot be signed; a sender could still send the header.
          return authorizationHeader({ origin: signed.origin, destination: signed.destination, key: unknownKey.keyId, signature: 'x' });
        }
      case 'wrong-destination':
        return authorizationHeader({ origin: signed.origin, destination: 'elsewhere.fuzz.test', key: 'ed25519:a', signature: 'x' });
      case 'other-origin':
        // Short, so that 240 of them fit in node's 16 KiB of headers.
        return authorizationHeader({ origin: `o${i}.fuzz.test`, destination: signed.destination, key: 'ed25519:a', signature: 'x' });
      case 'malformed':
      case 'other-scheme':
        return extra.text;
    }
  });
  const mine = own === undefined ? [] : [own];
  return extras.first ? [...built, ...mine] : [...mine, ...built];
}

/** Whether the extra headers still let a correctly signed request through: all X-Matrix, one origin, ours, a few. */
export function extrasAllowSuccess(extras: ExtraAuthorizations): boolean {
  const xMatrix = 1 + extras.headers.filter((h) => h.kind !== 'other-scheme').length;
  return xMatrix <= MAX_X_MATRIX_HEADERS && extras.headers.every((h) => h.kind === 'copy' || h.kind === 'unknown-key' || h.kind === 'other-scheme');
}

/** How the body is encoded on the wire, and what the Content-Encoding header says. */
export type BodyEncoding =
  | { readonly kind: 'identity' }
  | { readonly kind: 'gzip' | 'deflate' | 'br'; readonly damage: 'none' | 'truncated' | 'corrupt' | 'not-encoded' }
  | { readonly kind: 'unsupported'; readonly header: string };

export const bodyEncoding: fc.Arbitrary<BodyEncoding> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ kind: 'identity' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom('gzip' as const, 'deflate' as const, 'br' as const),
      damage: fc.constantFrom('none' as const, 'truncated' as const, 'corrupt' as const, 'not-encoded' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('x-unknown', 'compress', 'gzip, gzip', 'gzip, identity', 'br;q=1', 'zstd', 'x-gzip')
      .map((header) => ({ kind: 'unsupported' as const, header })),
  },
);

/** The bytes to send and the Content-Encoding header (none for identity), for a body of `bytes`. */
export function encodeBody(bytes: Buffer | undefined, encoding: BodyEncoding): { bytes: Buffer | undefined; header: string | undefined } {
  if (encoding.kind === 'identity') return { bytes, header: undefined };
  if (encoding.kind === 'unsupported') return { bytes, header: encoding.header };
  if (bytes === undefined) return { bytes, header: encoding.kind };
  const encoded = encoding.damage === 'not-encoded' ? bytes : compress(encoding.kind, bytes);
  switch (encoding.damage) {
    case 'truncated':
      return { bytes: encoded.subarray(0, Math.max(0, encoded.length - 4)), header: encoding.kind };
    case 'corrupt': {
      const copy = Buffer.from(encoded);
      const at = Math.floor(copy.length / 2);
      if (copy.length > 0) copy[at] = copy[at]! ^ 0xff;
      return { bytes: copy, header: encoding.kind };
    }
    default:
      return { bytes: encoded, header: encoding.kind };
  }
}

/**
 * Whether the service can read the body it was meant to: the wire bytes decode, as the header says, to the body
 * signed. A damaged body may still decode (br has no checksum), so this decodes rather than guesses.
 */
export function encodingAllowsSuccess(original: Buffer | undefined, wire: { bytes: Buffer | undefined; header: string | undefined }, encoding: BodyEncoding): boolean {
  if (encoding.kind === 'identity') return true;
  if (encoding.kind === 'unsupported') return false;
  if (original === undefined || wire.bytes === undefined) return original === wire.bytes;
  try {
    return decompress(encoding.kind, wire.bytes).equals(original);
  } catch {
    return false;
  }
}

function compress(kind: 'gzip' | 'deflate' | 'br', bytes: Buffer): Buffer {
  return kind === 'gzip' ? gzipSync(bytes) : kind === 'deflate' ? deflateSync(bytes) : brotliCompressSync(bytes);
}

function decompress(kind: 'gzip' | 'deflate' | 'br', bytes: Buffer): Buffer {
  return kind === 'gzip' ? gunzipSync(bytes) : kind === 'deflate' ? inflateSync(bytes) : brotliDecompressSync(bytes);
}
