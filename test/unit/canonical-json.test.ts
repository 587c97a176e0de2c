/**
 * Canonical JSON against the Matrix spec (content/appendices.md, "Canonical JSON": its definition, grammar and
 * every example in "Examples"), plus the unpadded Base64 examples from "Unpadded Base64".
 */
import fc from 'fast-check';
import { canonicalJson, CanonicalJsonError, compareCodePoints } from '../../src/core/canonical-json';
import { decodeBase64, encodeBase64, encodeBase64UrlSafe } from '../../src/core/base64';

describe('canonicalJson: the spec appendix examples', () => {
  // [input exactly as the spec writes it, expected canonical JSON]
  const examples: Array<[string, string]> = [
    ['{}', '{}'],
    ['{\n    "one": 1,\n    "two": "Two"\n}', '{"one":1,"two":"Two"}'],
    ['{\n    "b": "2",\n    "a": "1"\n}', '{"a":"1","b":"2"}'],
    ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
    [
      `{
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                {
                    "medium": "email",
                    "address": "john.doe@example.org"
                },
                {
                    "medium": "msisdn",
                    "address": "123456789"
                }
            ]
        }
    }
}`,
      '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    ],
    ['{\n    "a": "日本語"\n}', '{"a":"日本語"}'],
    ['{\n    "本": 2,\n    "日": 1\n}', '{"日":1,"本":2}'],
    ['{\n    "a": "\\u65E5"\n}', '{"a":"日"}'],
    ['{\n    "a": null\n}', '{"a":null}'],
    ['{\n    "a": -0,\n    "b": 1e10\n}', '{"a":0,"b":10000000000}'],
  ];

  it.each(examples)('example %#', (input, expected) => {
    expect(canonicalJson(JSON.parse(input))).toBe(expected);
  });

  it('produces UTF-8 bytes, not \\u escapes, for non-ASCII text', () => {
    expect(Buffer.from(canonicalJson({ a: '日本語' }), 'utf8').toString('hex')).toBe('7b2261223a22e697a5e69cace8aa9e227d');
  });
});

describe('canonicalJson: numbers', () => {
  it('accepts the whole range [-(2**53)+1, (2**53)-1]', () => {
    expect(canonicalJson([2 ** 53 - 1, -(2 ** 53) + 1, 0, -1, 1])).toBe('[9007199254740991,-9007199254740991,0,-1,1]');
  });

  it.each([2 ** 53, -(2 ** 53), 1e300])('rejects the out-of-range integer %p', (n) => {
    expect(() => canonicalJson({ n })).toThrow(CanonicalJsonError);
  });

  it.each([0.5, -1.25, NaN, Infinity, -Infinity])('rejects the non-integer %p ("Float values are not permitted")', (n) => {
    expect(() => canonicalJson({ n })).toThrow(CanonicalJsonError);
  });

  it('never writes -0, exponents or decimal places', () => {
    expect(canonicalJson([-0, 1e3, 100.0, 1e15])).toBe('[0,1000,100,1000000000000000]');
  });
});

describe('canonicalJson: strings follow the grammar', () => {
  it('uses the short escapes for \\b \\t \\n \\f \\r, " and \\', () => {
    expect(canonicalJson('\b\t\n\f\r"\\')).toBe('"\\b\\t\\n\\f\\r\\"\\\\"');
  });

  it('writes every other ASCII control character as a lower-case \\u00XX escape', () => {
    const controls = [0x00, 0x01, 0x07, 0x0b, 0x0e, 0x0f, 0x10, 0x1a, 0x1f];
    expect(canonicalJson(String.fromCharCode(...controls))).toBe(
      '"\\u0000\\u0001\\u0007\\u000b\\u000e\\u000f\\u0010\\u001a\\u001f"',
    );
  });

  it('leaves everything from U+0020 up unescaped: "/", DEL, U+2028, astral characters', () => {
    expect(canonicalJson('a/b\u007f\u2028\u2029😀')).toBe('"a/b\u007f\u2028\u2029😀"');
  });

  it('rejects lone surrogates, which have no UTF-8 encoding', () => {
    expect(() => canonicalJson('\ud800')).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: 'x\udc00' })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ ['\ud83d']: 1 })).toThrow(CanonicalJsonError);
    expect(canonicalJson('\ud83d\ude00')).toBe('"😀"');
  });
});

describe('canonicalJson: structure', () => {
  it('sorts keys by Unicode code point, not UTF-16 code unit', () => {
    // U+FFFF < U+1F600 as code points, though the surrogate 0xD83D sorts before 0xFFFF as a code unit.
    expect(canonicalJson({ '😀': 2, '\uffff': 1, a: 0, B: -1 })).toBe('{"B":-1,"a":0,"\uffff":1,"😀":2}');
    expect(compareCodePoints('\uffff', '😀')).toBeLessThan(0);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'a')).toBe(0);
  });

  it('orders any two strings as their code-point sequences do (fast-check, 2,000 pairs of full-Unicode strings)', () => {
    const byCodePoints = (a: string, b: string): number => {
      const [x, y] = [Array.from(a, (c) => c.codePointAt(0)!), Array.from(b, (c) => c.codePointAt(0)!)];
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    };
    // Characters drawn near the boundaries that matter: ASCII, U+D7FF, U+E000-U+FFFF and astral planes.
    const char = fc.oneof(
      fc.constantFrom('a', 'B', '\ud7ff', '\ue000', '\uffff', '\ufffd', '😀', '\u{10000}', '\u{10ffff}'),
      fc.integer({ min: 0, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => String.fromCodePoint(c)),
    );
    const text = fc.array(char, { maxLength: 6 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(text, text, (a, b) => Math.sign(compareCodePoints(a, b)) === Math.sign(byCodePoints(a, b))),
      { numRuns: 2000 },
    );
  });

  it('sorts nested objects and keeps array order', () => {
    expect(canonicalJson({ z: [3, 1, { y: 1, x: [] }], a: { d: {}, c: true, b: false } })).toBe(
      '{"a":{"b":false,"c":true,"d":{}},"z":[3,1,{"x":[],"y":1}]}',
    );
  });

  it('encodes top-level scalars', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson(7)).toBe('7');
    expect(canonicalJson([])).toBe('[]');
  });

  it('rejects values JSON cannot hold', () => {
    expect(() => canonicalJson({ a: () => 1 })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: BigInt(1) })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson([undefined])).toThrow(CanonicalJsonError);
  });
});

describe('unpadded Base64 (appendix examples)', () => {
  const examples: Array<[string, string]> = [
    ['', ''],
    ['f', 'Zg'],
    ['fo', 'Zm8'],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg'],
    ['fooba', 'Zm9vYmE'],
    ['foobar', 'Zm9vYmFy'],
  ];

  it.each(examples)('UNPADDED_BASE64(%p) = %p, and decodes back with or without padding', (text, encoded) => {
    expect(encodeBase64(Buffer.from(text))).toBe(encoded);
    expect(decodeBase64(encoded)?.toString()).toBe(text);
    const padded = encoded + '='.repeat((4 - (encoded.length % 4)) % 4);
    expect(decodeBase64(padded)?.toString()).toBe(text);
  });

  it('uses - and _ as the 62nd and 63rd characters in the URL-safe variant', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xbf]);
    expect(encodeBase64(bytes)).toBe('+/+/');
    expect(encodeBase64UrlSafe(bytes)).toBe('-_-_');
    expect(encodeBase64UrlSafe(Buffer.from('f'))).toBe('Zg');
    expect(decodeBase64('-_-_')).toEqual(bytes);
  });

  it('rejects text that is not Base64', () => {
    expect(decodeBase64('Z')).toBeUndefined();
    expect(decodeBase64('Zm9v!')).toBeUndefined();
    expect(decodeBase64('+_')).toBeUndefined();
    expect(decodeBase64('Zm 9v')).toBeUndefined();
  });
});
