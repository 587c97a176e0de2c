/**
 * The numbers of a JSON text as they are written. JSON.parse reads `1.0`, `1e0` and `10e-1` all as 1, so the
 * parsed value cannot tell whether a PDU holds a float; the text can, and the text is what is stored and served
 * byte for byte. Canonical JSON (spec appendices, "Canonical JSON") has only integers in [-(2^53)+1, 2^53-1],
 * written without fraction or exponent; Synapse (`validate_canonicaljson`) refuses any float in room versions 6+.
 */

export interface NumberToken {
  /** The number as written, e.g. `1.0` or `1.7e12`. */
  readonly token: string;
  /** The top-level key whose value holds it (`depth`, `content`, ...); undefined outside a top-level object. */
  readonly key: string | undefined;
  /** Why it is not canonical. */
  readonly problem: 'not an integer' | 'out of range';
}

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
const MAX_SAFE_DIGITS = String(Number.MAX_SAFE_INTEGER);

/**
 * The first number in `text` (valid JSON) that canonical JSON cannot hold, or undefined. The value of the
 * top-level key `skipKey` is passed over (a PDU's `unsigned`, which is not stored). One pass over the text, with
 * strings skipped by indexOf: linear in its length.
 */
export function firstNonCanonicalNumber(text: string, skipKey?: string): NumberToken | undefined {
  let depth = 0;
  let expectKey = false;
  let topIsObject = false;
  let key: string | undefined;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (depth === 1 && expectKey) {
        key = JSON.parse(text.slice(i, end + 1)) as string;
        expectKey = false;
      }
      i = end + 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth += 1;
      if (depth === 1) expectKey = topIsObject = c === 0x7b;
      i += 1;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth -= 1;
      i += 1;
    } else if (c === 0x2c /* , */) {
      if (depth === 1) expectKey = topIsObject;
      i += 1;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < text.length && isNumberChar(text.charCodeAt(j))) j += 1;
      const token = text.slice(i, j);
      if (key !== skipKey || skipKey === undefined) {
        const problem = numberProblem(token);
        if (problem !== undefined) return { token, key, problem };
      }
      i = j;
    } else {
      i += 1;
    }
  }
  return undefined;
}

function numberProblem(token: string): NumberToken['problem'] | undefined {
  if (!INTEGER.test(token)) return 'not an integer';
  const digits = token.startsWith('-') ? token.slice(1) : token;
  if (digits.length > MAX_SAFE_DIGITS.length || (digits.length === MAX_SAFE_DIGITS.length && digits > MAX_SAFE_DIGITS)) {
    return 'out of range';
  }
  return undefined;
}

function isNumberChar(c: number): boolean {
  // Digits, '.', 'e', 'E', '+', '-'.
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

/** The index of the quote that closes the string opening at `start` (one not escaped by an odd run of backslashes). */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return text.length - 1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes += 1;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}
