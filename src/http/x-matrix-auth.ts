/**
 * Request authentication as middleware (server-server API, "Request Authentication"), like Conduit's X-Matrix
 * extractor: it verifies the request's signature and hands the handler an authenticated `origin`, so handlers
 * never read headers.
 *
 * Needs a JSON body parser mounted before it that leaves `req.body` undefined when the request has no body and
 * the parsed JSON when it has one (Express 5's `express.json()` does both). The signature covers the JSON-parsed
 * body, not its bytes, so the raw body is not needed. Senders need not send `Content-Type: application/json`
 * ("this is not required"), so the parser should accept any type for federation routes.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { CanonicalJsonError } from '../core/canonical-json';
import {
  isXMatrixScheme,
  parseXMatrixAuthorization,
  verifyRequestSignature,
  XMatrixAuthorization,
} from '../core/x-matrix';
import { MatrixError } from '../errors';
import type { KeyLookup } from '../federation/key-fetcher';

export interface VerifyKeySource {
  getVerifyKey(
    serverName: string,
    keyId: string,
    atTs: number,
    options?: { allowOldKeys?: boolean },
  ): Promise<KeyLookup>;
}

export interface XMatrixAuthLogger {
  info(message: string, meta?: Record<string, unknown>): void;
}

export interface XMatrixAuthOptions {
  /** Our server name, which `destination` must equal when it is given. */
  readonly serverName: string;
  readonly keyFetcher: VerifyKeySource;
  readonly now: () => number;
  readonly logger?: XMatrixAuthLogger;
}

/** The verified origin server of the request, set by xMatrixAuth; throws if the middleware did not run. */
export function authenticatedOrigin(res: Response): string {
  const origin: unknown = res.locals.origin;
  if (typeof origin !== 'string') throw new Error('xMatrixAuth did not run before this handler');
  return origin;
}

export function xMatrixAuth(options: XMatrixAuthOptions): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    authenticate(req, options).then(
      (origin) => {
        res.locals.origin = origin;
        next();
      },
      (error: unknown) => next(error),
    );
  };
}

/**
 * The origin of the first `X-Matrix` header that verifies. A request may carry several `Authorization` headers
 * (one per signing key, as the spec's example code builds them); node keeps only the first in `req.headers`, so
 * they are read from `req.headersDistinct`. Headers of other schemes are ignored.
 */
async function authenticate(req: Request, options: XMatrixAuthOptions): Promise<string> {
  const headers = (req.headersDistinct.authorization ?? []).filter(isXMatrixScheme);
  if (headers.length === 0) throw unauthorized('The request has no "Authorization: X-Matrix ..." header.');

  const content: unknown = req.body;
  const failures: string[] = [];
  for (const header of headers) {
    const parsed = parseXMatrixAuthorization(header);
    if (!parsed.ok) {
      failures.push(`The X-Matrix header is malformed: ${parsed.reason}.`);
      continue;
    }
    const failure = await verify(req, content, parsed.authorization, options);
    if (failure === undefined) return parsed.authorization.origin;
    failures.push(failure);
  }
  options.logger?.info('request authentication failed', { uri: req.originalUrl, failures });
  throw unauthorized(failures.join(' '));
}

/** Undefined when the header's signature verifies, else a sentence saying why not. */
async function verify(
  req: Request,
  content: unknown,
  authorization: XMatrixAuthorization,
  options: XMatrixAuthOptions,
): Promise<string | undefined> {
  const { origin, destination, key, signature } = authorization;
  // "If this property is included, but the value does not match the receiving server's name, the receiving
  // server must deny the request with an HTTP status code 401 Unauthorized."
  if (destination !== undefined && destination !== options.serverName) {
    return `The X-Matrix destination ${destination} is not this server (${options.serverName}).`;
  }
  const lookup = await options.keyFetcher.getVerifyKey(origin, key, options.now(), { allowOldKeys: false });
  if (!lookup.ok && lookup.unavailable === true) {
    throw new MatrixError('M_UNAVAILABLE', `The keys of ${origin} cannot be read at the moment; retry shortly`);
  }
  if (!lookup.ok) return `Key ${key} of ${origin} cannot verify this request: ${lookup.reason}.`;

  // Senders without `destination` in the header (before spec v1.3) still signed it as our server name.
  const request = { method: req.method, uri: req.originalUrl, origin, destination: options.serverName, content };
  try {
    if (verifyRequestSignature(request, signature, lookup.publicKey)) return undefined;
  } catch (error) {
    // A body with, say, a float has no canonical JSON, so no signature can cover it.
    if (error instanceof CanonicalJsonError)
      throw new MatrixError('M_BAD_JSON', `The request body is not canonical JSON: ${error.message}.`);
    throw error;
  }
  return `The X-Matrix signature by ${key} of ${origin} does not verify.`;
}

function unauthorized(message: string): MatrixError {
  return new MatrixError('M_UNAUTHORIZED', message);
}
