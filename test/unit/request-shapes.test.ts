/**
 * The fuzz generators' oracles for request framing (src/fuzz/request-shapes.ts): which extra Authorization headers
 * and which Content-Encodings still allow a 200, since the endpoint property relies on them to call a 200 wrong.
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { MAX_X_MATRIX_HEADERS, parseXMatrixHeaders } from '../../src/core/x-matrix';
import { generateSigningKey } from '../../src/core/signing';
import {
  authorizationHeaders,
  bodyEncoding,
  encodeBody,
  encodingAllowsSuccess,
  extraAuthorizations,
  extrasAllowSuccess,
  type BodyEncoding,
} from '../../src/fuzz/request-shapes';
import { signRequest } from '../../src/core/x-matrix';

const US = 'us.fuzz.test';
const key = generateSigningKey('own');
const signed = { method: 'POST', uri: '/_matrix/federation/v1/get_missing_events/x', origin: 'fuzz1.test', destination: US, content: { limit: 1 } };
const own = signRequest({ ...signed, key });

describe('extra Authorization headers', () => {
  it('allow a 200 exactly when the headers pass the checks of the X-Matrix middleware', () => {
    fc.assert(
      fc.property(extraAuthorizations, (extras) => {
        const headers = authorizationHeaders(own, extras, signed);
        expect(headers).toHaveLength(extras.headers.length + 1);
        expect(parseXMatrixHeaders(headers, US).ok).toBe(extrasAllowSuccess(extras));
      }),
      { numRuns: 300 },
    );
  });

  it('cover every refusal: too many, another origin, another destination, malformed', () => {
    const reasons = new Set<string>();
    for (const extras of fc.sample(extraAuthorizations, { numRuns: 2000, seed: 1 })) {
      const checked = parseXMatrixHeaders(authorizationHeaders(own, extras, signed), US);
      if (!checked.ok) reasons.add(checked.reason.split(/[:;0-9]/)[0]!);
    }
    expect([...reasons].sort()).toEqual([
      'The X-Matrix destination elsewhere.fuzz.test is not this server (us.fuzz.test).',
      'The X-Matrix header is malformed',
      'The X-Matrix headers name ',
      'The request has ',
    ]);
    expect(MAX_X_MATRIX_HEADERS).toBe(4);
  });
});

describe('Content-Encoding', () => {
  const body = Buffer.from('{"latest_events":["$a"],"limit":1}');

  it.each<[BodyEncoding, boolean]>([
    [{ kind: 'identity' }, true],
    [{ kind: 'gzip', damage: 'none' }, true],
    [{ kind: 'deflate', damage: 'none' }, true],
    [{ kind: 'br', damage: 'none' }, true],
    [{ kind: 'gzip', damage: 'truncated' }, false],
    [{ kind: 'gzip', damage: 'corrupt' }, false],
    [{ kind: 'deflate', damage: 'not-encoded' }, false],
    [{ kind: 'unsupported', header: 'x-unknown' }, false],
  ])('%j allows a 200: %s', (encoding, allowed) => {
    const wire = encodeBody(body, encoding);
    expect(encodingAllowsSuccess(body, wire, encoding)).toBe(allowed);
  });

  it('sends what the header says', () => {
    expect(encodeBody(body, { kind: 'gzip', damage: 'none' })).toEqual({ bytes: gzipSync(body), header: 'gzip' });
    expect(encodeBody(body, { kind: 'identity' })).toEqual({ bytes: body, header: undefined });
    expect(fc.sample(bodyEncoding, { numRuns: 200, seed: 1 }).some((e) => e.kind !== 'identity')).toBe(true);
  });
});
