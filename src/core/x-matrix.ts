/**
 * The `X-Matrix` authorization scheme (server-server API, "Request Authentication"): the JSON object a request
 * signature covers, parsing the `Authorization` header that carries it, and producing one for our own requests.
 */
import { canonicalJson } from './canonical-json';
import { parseServerName } from './server-name';
import { signBytes, SigningKey, verifyBytes } from './signing';

export interface XMatrixAuthorization {
  readonly origin: string;
  /** Absent from servers older than spec v1.3, which "recipients should accept". */
  readonly destination: string | undefined;
  /** The key ID, `<algorithm>:<version>`. */
  readonly key: string;
  /** The unpadded Base64 signature, sent as `sig` (or `signature`). */
  readonly signature: string;
}

export type XMatrixParseResult =
  { readonly ok: true; readonly authorization: XMatrixAuthorization } | { readonly ok: false; readonly reason: string };

export interface SignedRequest {
  readonly method: string;
  /** The path and query as sent, starting `/_matrix/`, without scheme or host. */
  readonly uri: string;
  readonly origin: string;
  readonly destination?: string;
  /** The JSON-parsed request body; undefined when the request has none. */
  readonly content?: unknown;
}

/** The canonical JSON a request signature covers: method, uri, origin, destination and content, if any. */
export function requestSigningBytes(request: SignedRequest): string {
  const object: Record<string, unknown> = { method: request.method, uri: request.uri, origin: request.origin };
  if (request.destination !== undefined) object.destination = request.destination;
  if (request.content !== undefined) object.content = request.content;
  return canonicalJson(object);
}

/** Whether the header's signature verifies over `request` with `publicKey` (unpadded Base64). */
export function verifyRequestSignature(request: SignedRequest, signature: string, publicKey: string): boolean {
  return verifyBytes(publicKey, requestSigningBytes(request), signature);
}

/** The `Authorization` header value for a request signed with `key`, as our CLI and tests send it. */
export function signRequest(
  request: SignedRequest & { readonly destination: string; readonly key: SigningKey },
): string {
  const signature = signBytes(request.key, requestSigningBytes(request));
  return authorizationHeader({
    origin: request.origin,
    destination: request.destination,
    key: request.key.keyId,
    signature,
  });
}

/**
 * Formats the header the way the spec asks senders to for older servers' sake: one space after `X-Matrix`,
 * lower-case names, no whitespace around commas, every value quoted.
 */
export function authorizationHeader(authorization: XMatrixAuthorization): string {
  const params: [string, string | undefined][] = [
    ['origin', authorization.origin],
    ['destination', authorization.destination],
    ['key', authorization.key],
    ['sig', authorization.signature],
  ];
  const text = params
    .filter((param): param is [string, string] => param[1] !== undefined)
    .map(([name, value]) => `${name}=${quote(value)}`)
    .join(',');
  return `X-Matrix ${text}`;
}

/** The authorization scheme of an `Authorization` header value, e.g. `X-Matrix` or `Bearer`; case as sent. */
export function authorizationScheme(header: string): string {
  const match = /^[ \t]*([^ \t]*)/.exec(header);
  return match?.[1] ?? '';
}

export function isXMatrixScheme(header: string): boolean {
  // Auth schemes are case-insensitive (RFC 9110, section 11.1).
  return authorizationScheme(header).toLowerCase() === 'x-matrix';
}

/**
 * How many `X-Matrix` headers one request may carry. The spec's example code sends one per signing key, and
 * homeservers sign requests with one key, so a few are plenty; each costs a key lookup and a signature check.
 */
export const MAX_X_MATRIX_HEADERS = 4;

export type XMatrixHeadersResult =
  | { readonly ok: true; readonly origin: string; readonly authorizations: readonly XMatrixAuthorization[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Checks a request's `Authorization` header values as a whole, before any key is looked up, so a request that fails
 * costs no key fetch: at least one and at most MAX_X_MATRIX_HEADERS are `X-Matrix` (other schemes are ignored),
 * every one parses, every `destination` given is `serverName` (as Synapse's Authenticator: one wrong destination
 * refuses the request whatever the other headers say), and all name the same origin (stricter than Synapse, which
 * lets the last header's origin win: a request has one origin, and naming many would make us fetch keys of each).
 */
export function parseXMatrixHeaders(headers: readonly string[], serverName: string): XMatrixHeadersResult {
  const xMatrix = headers.filter(isXMatrixScheme);
  if (xMatrix.length === 0) return { ok: false, reason: 'The request has no "Authorization: X-Matrix ..." header.' };
  if (xMatrix.length > MAX_X_MATRIX_HEADERS) {
    return { ok: false, reason: `The request has ${xMatrix.length} X-Matrix headers; at most ${MAX_X_MATRIX_HEADERS} are accepted.` };
  }
  const authorizations: XMatrixAuthorization[] = [];
  for (const header of xMatrix) {
    const parsed = parseXMatrixAuthorization(header);
    if (!parsed.ok) return { ok: false, reason: `The X-Matrix header is malformed: ${parsed.reason}.` };
    authorizations.push(parsed.authorization);
  }
  // "If this property is included, but the value does not match the receiving server's name, the receiving
  // server must deny the request with an HTTP status code 401 Unauthorized."
  const elsewhere = authorizations.find((a) => a.destination !== undefined && a.destination !== serverName);
  if (elsewhere !== undefined) {
    return { ok: false, reason: `The X-Matrix destination ${elsewhere.destination} is not this server (${serverName}).` };
  }
  const origins = [...new Set(authorizations.map((a) => a.origin))];
  if (origins.length > 1) {
    return { ok: false, reason: `The X-Matrix headers name ${origins.length} origins (${origins.join(', ')}); a request has one.` };
  }
  return { ok: true, origin: origins[0]!, authorizations };
}

/**
 * Parses `X-Matrix origin=...,destination=...,key=...,sig=...` as the spec describes it with RFC 9110's
 * grammar: names are case-insensitive tokens, values are tokens or quoted strings with backslash escapes, commas
 * may have spaces and tabs around them, and order does not matter. Unknown parameters are ignored. Never throws:
 * a header it cannot read yields a reason.
 */
export function parseXMatrixAuthorization(header: string): XMatrixParseResult {
  if (typeof header !== 'string') return fail('the header is not a string');
  const scheme = authorizationScheme(header);
  if (scheme.toLowerCase() !== 'x-matrix') return fail(`the scheme is "${scheme}", not "X-Matrix"`);
  const start = header.indexOf(scheme) + scheme.length;
  if (!/^[ \t]/.test(header.slice(start))) return fail('no space after "X-Matrix"');

  const params = parseParams(header, start);
  if (typeof params === 'string') return fail(params);

  const origin = params.get('origin');
  const key = params.get('key');
  const sig = params.get('sig');
  const signature = params.get('signature');
  if (sig !== undefined && signature !== undefined) return fail('both "sig" and "signature" are given');
  if (origin === undefined) return fail('"origin" is missing');
  if (key === undefined) return fail('"key" is missing');
  if (sig === undefined && signature === undefined) return fail('"sig" is missing');

  const originName = parseServerName(origin);
  if (!originName.ok) return fail(`"origin" is not a server name: ${originName.reason}`);
  if (!/^[^:]+:[^:]+$/.test(key)) return fail(`"key" is not a key ID of the form <algorithm>:<version>: "${key}"`);
  const value = (sig ?? signature)!;
  if (value.length === 0) return fail('"sig" is empty');

  return { ok: true, authorization: { origin, destination: params.get('destination'), key, signature: value } };
}

// RFC 9110 `tchar`, plus ":" which "the recipient should allow ... in values without requiring the value to be
// enclosed in quotes" for older senders.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const UNQUOTED_VALUE_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:]/;
// qdtext and quoted-pair's escaped character: HTAB, SP, visible ASCII and obs-text, not other controls.
const QUOTED_CHAR = /[\t\x20-\x7e\x80-\xff]/;

/** The parameters, names lower-cased, or a reason. Empty list elements (`a=b,,c=d`) are allowed, as RFC 9110's list rule allows them. */
function parseParams(header: string, from: number): Map<string, string> | string {
  const params = new Map<string, string>();
  let i = from;
  const skipWhitespace = () => {
    while (header[i] === ' ' || header[i] === '\t') i++;
  };

  for (;;) {
    skipWhitespace();
    if (i >= header.length) break;
    if (header[i] === ',') {
      i++;
      continue;
    }

    const nameStart = i;
    while (i < header.length && TCHAR.test(header[i]!)) i++;
    const name = header.slice(nameStart, i).toLowerCase();
    if (name.length === 0) return `expected a parameter name at character ${i + 1}, found "${header[i]}"`;
    skipWhitespace();
    if (header[i] !== '=') return `parameter "${name}" has no "=value"`;
    i++;
    skipWhitespace();

    let value = '';
    if (header[i] === '"') {
      i++;
      let closed = false;
      while (i < header.length) {
        const c = header[i]!;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        // "a backslash-character pair is replaced by the character that follows the backslash"
        const literal = c === '\\' ? header[++i] : c;
        if (literal === undefined || !QUOTED_CHAR.test(literal)) {
          return `the quoted value of "${name}" contains a character that is not allowed at character ${i + 1}`;
        }
        value += literal;
        i++;
      }
      if (!closed) return `the quoted value of "${name}" has no closing quote`;
    } else {
      const valueStart = i;
      while (i < header.length && UNQUOTED_VALUE_CHAR.test(header[i]!)) i++;
      value = header.slice(valueStart, i);
      if (value.length === 0) return `parameter "${name}" has an empty value or one that needs quotes`;
    }

    if (params.has(name)) return `parameter "${name}" is given twice`;
    params.set(name, value);

    skipWhitespace();
    if (i >= header.length) break;
    if (header[i] !== ',') return `expected "," after the value of "${name}", found "${header[i]}"`;
    i++;
  }
  return params;
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function fail(reason: string): XMatrixParseResult {
  return { ok: false, reason };
}
