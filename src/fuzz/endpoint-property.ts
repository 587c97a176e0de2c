/**
 * The endpoint's property, shared by test/fuzz and `npm run fuzz`: whatever a caller sends (body, headers, room
 * path, signature), the answer is never a 5xx; an error is exactly `{"errcode": "M_...", "error": "..."}`; a 200
 * comes only to a correctly signed request and holds only events of the requested room, each whole or redacted
 * exactly as the fixture says that origin may see it. (That no request changes stored data is checked around a
 * run, with graphFingerprint.)
 */
import { Agent, request as httpRequest } from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { signRequest } from '../core/x-matrix';
import { generateSigningKey } from '../core/signing';
import { headerValue, roomPath, signing, wellFormedBody, wireBody, type Signing, type WireBody } from './arbitraries';
import { expectedPdu, FUZZ_ORIGINS, type Fixture } from './fixture';
import { FUZZ_SERVER_NAME } from './fuzz-service';
import {
  authorizationHeaders,
  bodyEncoding,
  encodeBody,
  encodingAllowsSuccess,
  extraAuthorizations,
  extrasAllowSuccess,
  type BodyEncoding,
  type ExtraAuthorizations,
} from './request-shapes';

export interface FuzzRequest {
  readonly origin: string;
  readonly signing: Signing;
  readonly roomPath: string;
  readonly body: WireBody;
  readonly contentType: string;
  readonly method: 'POST' | 'PUT' | 'GET';
  /** Authorization headers besides the request's own (src/fuzz/request-shapes.ts); none when absent. */
  readonly extraAuthorizations?: ExtraAuthorizations;
  /** The body's Content-Encoding; identity when absent. */
  readonly encoding?: BodyEncoding;
}

export interface Reply {
  readonly status: number;
  readonly text: string;
}

const STATUSES = new Set([200, 400, 401, 403, 404, 405, 413, 431]);
const PATH_PREFIX = '/_matrix/federation/v1/get_missing_events/';
const stranger = generateSigningKey('stranger');
const NO_EXTRAS: ExtraAuthorizations = { headers: [], first: false };
const IDENTITY: BodyEncoding = { kind: 'identity' };

export function fuzzRequest(fixture: Fixture): fc.Arbitrary<FuzzRequest> {
  const anyRequest = fc.record({
    origin: fc.constantFrom(...FUZZ_ORIGINS),
    signing,
    roomPath: roomPath(fixture.rooms.map((room) => room.roomId)),
    body: wireBody(fixture.eventIds),
    contentType: fc.oneof(fc.constant('application/json'), headerValue),
    method: fc.oneof({ weight: 10, arbitrary: fc.constant('POST' as const) }, { weight: 1, arbitrary: fc.constantFrom('PUT' as const, 'GET' as const) }),
    extraAuthorizations,
    encoding: bodyEncoding,
  });
  // Each of anyRequest's fields spoils the request now and then, so that together only about one run in twenty-five
  // reached the walk; a quarter of the runs are a correct request over the fixture, whose answers the property checks
  // against each origin's view.
  const correctRequest = fc.record({
    origin: fc.constantFrom(...FUZZ_ORIGINS),
    signing: fc.constant('valid' as const),
    roomPath: fc.constantFrom(...fixture.rooms.map((room) => encodeURIComponent(room.roomId))),
    body: wellFormedBody(fixture.eventIds).map((value): WireBody => ({ kind: 'json', value })),
    contentType: fc.constant('application/json'),
    method: fc.constant('POST' as const),
  });
  return fc.oneof({ weight: 3, arbitrary: anyRequest }, { weight: 1, arbitrary: correctRequest });
}

/**
 * The property over one service: send the request and throw what is wrong with the answer. `tally` counts the
 * answers by status (and "200 with events"), to show what a run reached.
 */
export function endpointProperty(fixture: Fixture, url: string, tally?: Map<string, number>): fc.IAsyncPropertyWithHooks<[FuzzRequest]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  return fc.asyncProperty(fuzzRequest(fixture), async (request) => {
    const reply = await send(url, request, fixture, agent);
    if (tally !== undefined) {
      const key = reply.status === 200 && reply.text !== '{"events":[]}' ? '200 with events' : String(reply.status);
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    const problem = checkReply(fixture, request, reply);
    if (problem !== undefined) throw new Error(`${problem}\nstatus ${reply.status}: ${reply.text.slice(0, 500)}`);
  });
}

export function send(url: string, request: FuzzRequest, fixture: Fixture, agent?: Agent): Promise<Reply> {
  const original = wireBytes(request.body);
  const path = `${PATH_PREFIX}${request.roomPath}`;
  const authorization = authorizationFor(request, path, original, fixture);
  const { bytes, header: contentEncoding } = encodeBody(original, request.encoding ?? IDENTITY);
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: Number(target.port), method: request.method, path, agent: agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setHeader('content-type', request.contentType);
    // Framed as every client frames a body (node would send a GET's body unframed, as the start of a next request).
    if (bytes !== undefined) req.setHeader('content-length', bytes.length);
    if (contentEncoding !== undefined) req.setHeader('content-encoding', contentEncoding);
    if (authorization.length > 0) req.setHeader('authorization', authorization);
    req.on('error', reject);
    req.end(bytes);
  });
}

function wireBytes(body: WireBody): Buffer | undefined {
  switch (body.kind) {
    case 'json':
      return Buffer.from(JSON.stringify(body.value) ?? 'null', 'utf8');
    case 'text':
      return Buffer.from(body.text, 'utf8');
    case 'bytes':
      return Buffer.from(body.bytes);
    case 'none':
      return undefined;
  }
}

/**
 * The Authorization headers: the X-Matrix header the request's `signing` asks for, over the body as the service will
 * parse it (before any Content-Encoding), with the request's extra headers around it.
 */
function authorizationFor(request: FuzzRequest, path: string, bytes: Buffer | undefined, fixture: Fixture): string[] {
  const signed = { method: request.method, uri: path, origin: request.origin, destination: FUZZ_SERVER_NAME, content: parsedContent(bytes), key: fixture.identities.get(request.origin)! };
  return authorizationHeaders(ownAuthorization(request, path, bytes, fixture), request.extraAuthorizations ?? NO_EXTRAS, signed);
}

function parsedContent(bytes: Buffer | undefined): unknown {
  try {
    return bytes === undefined || bytes.length === 0 ? undefined : JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}

/** The X-Matrix header the request's `signing` asks for, over the body as the service will parse it. */
function ownAuthorization(request: FuzzRequest, path: string, bytes: Buffer | undefined, fixture: Fixture): string | undefined {
  if (request.signing === 'none') return undefined;
  if (request.signing === 'garbage') return `X-Matrix origin="${request.origin}",key="ed25519:x",sig="bm90IGEgc2lnbmF0dXJl"`;
  let content: unknown;
  try {
    content = bytes === undefined || bytes.length === 0 ? undefined : JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    content = undefined;
  }
  const origin = request.signing === 'unknown-origin' ? 'stranger.fuzz.test' : request.origin;
  const key = request.signing === 'unknown-origin' ? stranger : fixture.identities.get(request.origin)!;
  const destination = request.signing === 'wrong-destination' ? 'elsewhere.test' : FUZZ_SERVER_NAME;
  try {
    return signRequest({ method: request.method, uri: path, origin, destination, content, key });
  } catch {
    // No canonical JSON (a float, or nesting too deep to sign): what a sender could send is a header that cannot verify.
    return `X-Matrix origin="${origin}",destination="${destination}",key="${key.keyId}",sig="bm90IGEgc2lnbmF0dXJl"`;
  }
}

/** What is wrong with the reply to `request`, or undefined. */
export function checkReply(fixture: Fixture, request: FuzzRequest, reply: Reply): string | undefined {
  if (!STATUSES.has(reply.status)) return `unexpected status ${reply.status}`;
  let body: unknown;
  try {
    body = JSON.parse(reply.text);
  } catch {
    return 'the body is not JSON';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body is not a JSON object';
  const json = body as Record<string, unknown>;
  if (reply.status !== 200) {
    const keys = Object.keys(json).sort().join(',');
    if (keys !== 'errcode,error') return `an error body with keys ${keys}`;
    if (typeof json.errcode !== 'string' || !/^M_[A-Z_]+$/.test(json.errcode)) return `errcode ${String(json.errcode)}`;
    if (typeof json.error !== 'string' || json.error.length === 0) return 'an error without a message';
    return undefined;
  }
  if (request.method !== 'POST') return `200 to ${request.method}`;
  if (request.signing !== 'valid') return `200 to a request signed "${request.signing}"`;
  if (!extrasAllowSuccess(request.extraAuthorizations ?? NO_EXTRAS)) return '200 to a request whose other Authorization headers should have refused it';
  const original = wireBytes(request.body);
  const encoding = request.encoding ?? IDENTITY;
  if (!encodingAllowsSuccess(original, encodeBody(original, encoding), encoding)) {
    return `200 to a request whose body its Content-Encoding does not describe (${JSON.stringify(encoding)})`;
  }
  if (Object.keys(json).join(',') !== 'events' || !Array.isArray(json.events)) return 'a 200 whose body is not {"events": [...]}';
  let roomId: string;
  try {
    roomId = decodeURIComponent(request.roomPath);
  } catch {
    return 'a 200 for a path that is not percent-encoded UTF-8';
  }
  const room = fixture.rooms.find((r) => r.roomId === roomId);
  if (room === undefined) return `a 200 for a room that is not stored: ${roomId}`;
  if (!room.readers.has(request.origin)) return `a 200 to ${request.origin}, which may not read ${roomId}`;
  if (json.events.length > 20) return `${json.events.length} events, more than the limit of 20`;
  const seen = new Set<string>();
  for (const pdu of json.events as Record<string, unknown>[]) {
    const expected = expectedPdu(fixture, roomId, request.origin, pdu);
    if (expected === undefined) return `an event that is not of ${roomId}: ${JSON.stringify(pdu).slice(0, 200)}`;
    if (!isDeepStrictEqual(pdu, expected)) return `an event not as ${request.origin} may see it: ${JSON.stringify(pdu).slice(0, 200)}`;
    const text = JSON.stringify(pdu);
    if (seen.has(text)) return 'an event returned twice';
    seen.add(text);
  }
  return undefined;
}
