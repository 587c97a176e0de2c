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
import { verifyBytes } from '../core/signing';
import { parseXMatrixHeaders, requestSigningBytes, type SignedRequest } from '../core/x-matrix';
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
 * The request's origin, once one of its `X-Matrix` headers verifies. A request may carry several `Authorization`
 * headers (one per signing key, as the spec's example code builds them); node keeps only the first in
 * `req.headers`, so they are read from `req.headersDistinct`. The headers are checked as a whole first
 * (parseXMatrixHeaders: a few, well-formed, for us, one origin), so a request that fails there starts no key fetch;
 * then the signed bytes are built once, whatever the number of headers, and each header's key is looked up and its
 * signature checked until one verifies.
 */
async function authenticate(req: Request, options: XMatrixAuthOptions): Promise<string> {
  const checked = parseXMatrixHeaders(req.headersDistinct.authorization ?? [], options.serverName);
  if (!checked.ok) {
    options.logger?.info('request authentication failed', { uri: req.originalUrl, failures: [checked.reason] });
    throw unauthorized(checked.reason);
  }
  const { origin, authorizations } = checked;
  // Senders without `destination` in the header (before spec v1.3) still signed it as our server name.
  const bytes = signingBytes({ method: req.method, uri: req.originalUrl, origin, destination: options.serverName, content: req.body });

  const failures: string[] = [];
  for (const { key, signature } of authorizations) {
    const lookup = await options.keyFetcher.getVerifyKey(origin, key, options.now(), { allowOldKeys: false });
    // The caller gets the lookup's one sentence per class; its detail (addresses, DNS and TLS errors of our
    // network) only our log.
    if (!lookup.ok) options.logger?.info('no key to verify the request', { origin, key, reason: lookup.reason });
    if (!lookup.ok && lookup.unavailable === true) throw new MatrixError('M_UNAVAILABLE', lookup.message);
    if (!lookup.ok) {
      failures.push(lookup.message);
    } else if (verifyBytes(lookup.publicKey, bytes, signature)) {
      return origin;
    } else {
      failures.push(`The X-Matrix signature by ${key} of ${origin} does not verify.`);
    }
  }
  options.logger?.info('request authentication failed', { uri: req.originalUrl, failures });
  throw unauthorized(failures.join(' '));
}

/** The canonical JSON the signatures cover; a body with, say, a float has none, so no signature can cover it. */
function signingBytes(request: SignedRequest): string {
  try {
    return requestSigningBytes(request);
  } catch (error) {
    if (error instanceof CanonicalJsonError)
      throw new MatrixError('M_BAD_JSON', `The request body is not canonical JSON: ${error.message}.`);
    throw error;
  }
}

function unauthorized(message: string): MatrixError {
  return new MatrixError('M_UNAUTHORIZED', message);
}
