/**
 * The X-Matrix header (server-server API, "Request Authentication"): parsing as RFC 9110 and the spec describe it,
 * the signed JSON, and signatures checked against tweetnacl as an independent ed25519 implementation, with the
 * spec's test signing key (appendices, "Cryptographic Test Vectors").
 */
import nacl from 'tweetnacl';
import { decodeBase64, encodeBase64 } from '../../src/core/base64';
import { signBytes } from '../../src/core/signing';
import {
  authorizationHeader,
  isXMatrixScheme,
  MAX_X_MATRIX_HEADERS,
  parseXMatrixAuthorization,
  parseXMatrixHeaders,
  requestSigningBytes,
  signRequest,
  verifyRequestSignature,
} from '../../src/core/x-matrix';
import { SPEC_KEY, SPEC_NACL_PAIR, SPEC_PUBLIC_KEY } from '../helpers/spec-signing-key';

const key = SPEC_KEY;
const naclPair = SPEC_NACL_PAIR;
const PUBLIC_KEY = SPEC_PUBLIC_KEY;

function parsed(header: string) {
  const result = parseXMatrixAuthorization(header);
  if (!result.ok) throw new Error(`expected ${header} to parse, got: ${result.reason}`);
  return result.authorization;
}

function reason(header: string): string {
  const result = parseXMatrixAuthorization(header);
  if (result.ok) throw new Error(`expected ${header} not to parse`);
  return result.reason;
}

describe('parseXMatrixAuthorization', () => {
  it("reads the spec's example header", () => {
    expect(
      parsed(
        'X-Matrix origin="origin.hs.example.com",destination="destination.hs.example.com",key="ed25519:key1",sig="ABCDEF..."',
      ),
    ).toEqual({
      origin: 'origin.hs.example.com',
      destination: 'destination.hs.example.com',
      key: 'ed25519:key1',
      signature: 'ABCDEF...',
    });
  });

  it('takes names and the scheme case-insensitively, in any order', () => {
    expect(parsed('x-matrix SIG="c2ln",Key="ed25519:a",DESTINATION="b.example",Origin="a.example"')).toEqual({
      origin: 'a.example',
      destination: 'b.example',
      key: 'ed25519:a',
      signature: 'c2ln',
    });
  });

  it('accepts unquoted token values, with the colons older senders put in them', () => {
    expect(parsed('X-Matrix origin=a.example:8448,key=ed25519:a_1,sig=abc+def')).toEqual({
      origin: 'a.example:8448',
      destination: undefined,
      key: 'ed25519:a_1',
      signature: 'abc+def',
    });
  });

  it('unescapes backslash pairs in quoted values', () => {
    expect(parsed('X-Matrix origin="a\\.exam\\ple",key="ed25519:\\a",sig="x\\"y\\\\z"')).toMatchObject({
      origin: 'a.example',
      key: 'ed25519:a',
      signature: 'x"y\\z',
    });
  });

  it('allows spaces and tabs around commas and equals signs, several spaces after the scheme, and empty list elements', () => {
    expect(parsed('X-Matrix   origin = "a.example" ,\tkey="ed25519:a"\t, ,sig="s",')).toEqual({
      origin: 'a.example',
      destination: undefined,
      key: 'ed25519:a',
      signature: 's',
    });
  });

  it('accepts `signature` for `sig`', () => {
    expect(parsed('X-Matrix origin="a.example",key="ed25519:a",signature="s"').signature).toBe('s');
  });

  it('ignores unknown parameters', () => {
    expect(parsed('X-Matrix origin="a.example",future="x, y",key="ed25519:a",sig="s"').signature).toBe('s');
  });

  it('accepts IPv6 literal origins with ports', () => {
    expect(parsed('X-Matrix origin="[2001:db8::1]:8448",key="ed25519:a",sig="s"').origin).toBe('[2001:db8::1]:8448');
  });

  it.each([
    ['Bearer abc', 'the scheme is "Bearer", not "X-Matrix"'],
    ['X-Matrix', 'no space after "X-Matrix"'],
    ['X-Matrix key="ed25519:a",sig="s"', '"origin" is missing'],
    ['X-Matrix origin="a.example",sig="s"', '"key" is missing'],
    ['X-Matrix origin="a.example",key="ed25519:a"', '"sig" is missing'],
    ['X-Matrix origin="a.example",key="ed25519:a",sig="s",signature="s"', 'both "sig" and "signature" are given'],
    ['X-Matrix origin="a.example",origin="b.example",key="ed25519:a",sig="s"', 'parameter "origin" is given twice'],
    ['X-Matrix origin="a.example",key="ed25519:a",sig="s', 'the quoted value of "sig" has no closing quote'],
    ['X-Matrix origin="a.example",key,sig="s"', 'parameter "key" has no "=value"'],
    ['X-Matrix origin=,key="ed25519:a",sig="s"', 'parameter "origin" has an empty value or one that needs quotes'],
    ['X-Matrix origin=a/b,key="ed25519:a",sig="s"', 'expected "," after the value of "origin", found "/"'],
    ['X-Matrix origin="a.example" key="ed25519:a",sig="s"', 'expected "," after the value of "origin", found "k"'],
    ['X-Matrix ="a.example"', 'expected a parameter name at character 10, found "="'],
    ['X-Matrix origin="a.example",key="ed25519:a",sig=""', '"sig" is empty'],
    ['X-Matrix origin="a.example",key="a",sig="s"', '"key" is not a key ID of the form <algorithm>:<version>: "a"'],
  ])('rejects %s', (header, expected) => {
    expect(reason(header)).toBe(expected);
  });

  it('rejects an origin that is not a server name', () => {
    expect(reason('X-Matrix origin="a_b.example",key="ed25519:a",sig="s"')).toMatch(/^"origin" is not a server name: /);
    expect(reason('X-Matrix origin="a.example:99999",key="ed25519:a",sig="s"')).toMatch(
      /^"origin" is not a server name: /,
    );
  });

  it('rejects control characters in quoted values', () => {
    expect(reason('X-Matrix origin="a.example",key="ed25519:a",sig="s\u0001"')).toMatch(
      /contains a character that is not allowed/,
    );
  });

  it('never throws, whatever the input', () => {
    for (const header of [
      '',
      ' ',
      '"',
      'X-Matrix "',
      'X-Matrix a=',
      'X-Matrix a="\\',
      'X-Matrix ,,,',
      '\u0000',
      'X-Matrix a=b=c',
    ]) {
      expect(() => parseXMatrixAuthorization(header)).not.toThrow();
      expect(parseXMatrixAuthorization(header).ok).toBe(false);
    }
  });
});

describe('isXMatrixScheme', () => {
  it('matches the scheme case-insensitively and nothing else', () => {
    expect(isXMatrixScheme('X-Matrix origin=a')).toBe(true);
    expect(isXMatrixScheme('x-MATRIX origin=a')).toBe(true);
    expect(isXMatrixScheme('Bearer x')).toBe(false);
    expect(isXMatrixScheme('X-Matrixx origin=a')).toBe(false);
  });
});

describe('requestSigningBytes', () => {
  it('is the canonical JSON of method, uri, origin, destination and content', () => {
    expect(
      requestSigningBytes({
        method: 'POST',
        uri: '/_matrix/federation/v1/get_missing_events/!r:b.example?x=1',
        origin: 'a.example',
        destination: 'b.example',
        content: { limit: 10, earliest_events: [], latest_events: ['$e'] },
      }),
    ).toBe(
      '{"content":{"earliest_events":[],"latest_events":["$e"],"limit":10},"destination":"b.example","method":"POST",' +
        '"origin":"a.example","uri":"/_matrix/federation/v1/get_missing_events/!r:b.example?x=1"}',
    );
  });

  it('leaves out content when there is no body and destination when there is none', () => {
    expect(requestSigningBytes({ method: 'GET', uri: '/_matrix/key/v2/server', origin: 'a.example' })).toBe(
      '{"method":"GET","origin":"a.example","uri":"/_matrix/key/v2/server"}',
    );
  });

  it('keeps an empty object body, which is content', () => {
    expect(requestSigningBytes({ method: 'POST', uri: '/x', origin: 'a', destination: 'b', content: {} })).toBe(
      '{"content":{},"destination":"b","method":"POST","origin":"a","uri":"/x"}',
    );
  });
});

describe('signing requests', () => {
  const request = {
    method: 'POST',
    uri: '/_matrix/federation/v1/get_missing_events/%21room%3Adomain',
    origin: 'domain',
    destination: 'other.example',
    content: { latest_events: ['$a'], earliest_events: [], limit: 5, min_depth: 0 },
  };

  it('uses the spec test key: signing {} gives the vector signature, as with tweetnacl', () => {
    const vector = 'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ';
    expect(signBytes(key, '{}')).toBe(vector);
    expect(encodeBase64(nacl.sign.detached(Buffer.from('{}'), naclPair.secretKey))).toBe(vector);
  });

  it('produces a header whose signature tweetnacl makes and verifies over the same bytes', () => {
    const auth = parsed(signRequest({ ...request, key }));
    expect(auth).toMatchObject({ origin: 'domain', destination: 'other.example', key: 'ed25519:1' });
    const bytes = Buffer.from(requestSigningBytes(request), 'utf8');
    expect(auth.signature).toBe(encodeBase64(nacl.sign.detached(bytes, naclPair.secretKey)));
    expect(nacl.sign.detached.verify(bytes, decodeBase64(auth.signature)!, naclPair.publicKey)).toBe(true);
  });

  it("verifies tweetnacl's signature and rejects any change to the signed request", () => {
    const signature = encodeBase64(nacl.sign.detached(Buffer.from(requestSigningBytes(request)), naclPair.secretKey));
    expect(verifyRequestSignature(request, signature, PUBLIC_KEY)).toBe(true);
    expect(verifyRequestSignature({ ...request, uri: `${request.uri}?limit=6` }, signature, PUBLIC_KEY)).toBe(false);
    expect(verifyRequestSignature({ ...request, method: 'PUT' }, signature, PUBLIC_KEY)).toBe(false);
    expect(verifyRequestSignature({ ...request, destination: 'third.example' }, signature, PUBLIC_KEY)).toBe(false);
    expect(
      verifyRequestSignature({ ...request, content: { ...request.content, limit: 6 } }, signature, PUBLIC_KEY),
    ).toBe(false);
    expect(verifyRequestSignature({ ...request, content: undefined }, signature, PUBLIC_KEY)).toBe(false);
    expect(verifyRequestSignature(request, 'not base64!', PUBLIC_KEY)).toBe(false);
  });
});

describe('authorizationHeader', () => {
  it('writes the compatible form: one space, lower-case names, no spaces around commas, quoted values', () => {
    expect(
      authorizationHeader({ origin: 'a.example', destination: 'b.example', key: 'ed25519:1', signature: 'abc/def+' }),
    ).toBe('X-Matrix origin="a.example",destination="b.example",key="ed25519:1",sig="abc/def+"');
  });

  it('escapes quotes and backslashes so the value parses back', () => {
    const header = authorizationHeader({
      origin: 'a.example',
      destination: 'we"ird\\',
      key: 'ed25519:1',
      signature: 's',
    });
    expect(parsed(header).destination).toBe('we"ird\\');
  });

  it('leaves out destination when there is none', () => {
    expect(authorizationHeader({ origin: 'a.example', destination: undefined, key: 'ed25519:1', signature: 's' })).toBe(
      'X-Matrix origin="a.example",key="ed25519:1",sig="s"',
    );
  });
});

describe('parseXMatrixHeaders', () => {
  const us = 'us.example';
  const header = (origin: string, destination?: string, keyId = 'ed25519:1') =>
    authorizationHeader({ origin, destination, key: keyId, signature: 'c2ln' });

  it('gives the one origin and every X-Matrix header, ignoring other schemes', () => {
    expect(parseXMatrixHeaders(['Bearer x', header('a.example', us), header('a.example', undefined, 'ed25519:2')], us)).toEqual({
      ok: true,
      origin: 'a.example',
      authorizations: [
        { origin: 'a.example', destination: us, key: 'ed25519:1', signature: 'c2ln' },
        { origin: 'a.example', destination: undefined, key: 'ed25519:2', signature: 'c2ln' },
      ],
    });
  });

  it('refuses a request without X-Matrix headers, or with too many', () => {
    expect(parseXMatrixHeaders(['Bearer x'], us)).toEqual({ ok: false, reason: 'The request has no "Authorization: X-Matrix ..." header.' });
    expect(parseXMatrixHeaders([], us)).toEqual({ ok: false, reason: 'The request has no "Authorization: X-Matrix ..." header.' });
    const many = Array.from({ length: MAX_X_MATRIX_HEADERS + 1 }, () => header('a.example', us));
    expect(parseXMatrixHeaders(many, us)).toEqual({
      ok: false,
      reason: `The request has ${MAX_X_MATRIX_HEADERS + 1} X-Matrix headers; at most ${MAX_X_MATRIX_HEADERS} are accepted.`,
    });
    expect(parseXMatrixHeaders(many.slice(1), us).ok).toBe(true);
  });

  it('refuses the request when any header is malformed, names another destination or another origin', () => {
    expect(parseXMatrixHeaders([header('a.example', us), 'X-Matrix origin=a.example'], us)).toEqual({
      ok: false,
      reason: 'The X-Matrix header is malformed: "key" is missing.',
    });
    expect(parseXMatrixHeaders([header('a.example', us), header('a.example', 'them.example')], us)).toEqual({
      ok: false,
      reason: `The X-Matrix destination them.example is not this server (${us}).`,
    });
    expect(parseXMatrixHeaders([header('a.example', us), header('b.example', us), header('a.example')], us)).toEqual({
      ok: false,
      reason: 'The X-Matrix headers name 2 origins (a.example, b.example); a request has one.',
    });
  });
});
