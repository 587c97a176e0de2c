/**
 * Canonical JSON, as the Matrix spec defines it (appendices, "Canonical JSON"): object keys sorted by code point,
 * no insignificant whitespace, UTF-8 characters unescaped except the ones JSON requires, and only integers in
 * [-(2**53)+1, 2**53-1]. Signatures, content hashes and reference hashes are all computed over this form.
 *
 * Ours rather than matrix-org's `another-json`, which was tried and is not spec-compliant: it writes control
 * characters as `\U0001` (JSON has only `\u0001`), sorts keys by UTF-16 code unit instead of code point, and
 * accepts floats such as 1.5.
 */
export class CanonicalJsonError extends Error {}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export function canonicalJson(value: unknown): string {
  return encode(value, '');
}

function encode(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isInteger(value) || Math.abs(value) > MAX_SAFE) {
        throw new CanonicalJsonError(`${path || 'value'} is not an integer in the canonical JSON range: ${value}`);
      }
      return Object.is(value, -0) ? '0' : String(value);
    case 'string':
      return encodeString(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map((v, i) => encode(v, `${path}[${i}]`)).join(',')}]`;
      return encodeObject(value as Record<string, unknown>, path);
    default:
      throw new CanonicalJsonError(`${path || 'value'} cannot be encoded as JSON (${typeof value})`);
  }
}

function encodeObject(object: Record<string, unknown>, path: string): string {
  // Code-point order; JavaScript's default sort compares UTF-16 code units, which differs for astral characters.
  const keys = Object.keys(object).filter((k) => object[k] !== undefined).sort(compareCodePoints);
  const members = keys.map((k) => `${encodeString(k)}:${encode(object[k], path ? `${path}.${k}` : k)}`);
  return `{${members.join(',')}}`;
}

export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // UTF-16 code units sort as code points except where a surrogate (U+D800-U+DFFF, half of a character above
      // U+FFFF) meets a unit in U+E000-U+FFFF: lift surrogates above that range before comparing. Equal leading
      // surrogates fall through to their trailing units, which order the characters correctly.
      return lift(x) - lift(y);
    }
  }
  return a.length - b.length;
}

function lift(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit <= 0xdfff ? unit + 0x2000 : unit - 0x800;
}

// Most strings hold no surrogate at all; the plain character class rules them out faster than the lookarounds.
const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// JSON.stringify escapes exactly what canonical JSON requires (", \, control characters as \b \f \n \r \t or \u00XX)
// and leaves every other character as it is. A lone surrogate has no UTF-8 encoding, and the grammar's only \u
// escapes are for U+0000-U+001F, so a string holding one has no canonical form (JSON.stringify would write "\ud800").
function encodeString(s: string): string {
  if (SURROGATE.test(s) && LONE_SURROGATE.test(s)) throw new CanonicalJsonError(`string contains a lone UTF-16 surrogate: ${JSON.stringify(s)}`);
  return JSON.stringify(s);
}
