/**
 * The rate limits as Express middleware, mounted after X-Matrix authentication so they count the verified origin
 * (an unauthenticated caller is refused before it costs anything but a signature check). A request refused by the
 * window gets 429 M_LIMIT_EXCEEDED with `retry_after_ms`; an admitted one holds its origin's slot, and then its
 * (origin, room) turn, until its response is done.
 */
import type { RequestHandler, Response } from 'express';
import { MatrixError } from '../errors';
import { FederationRateLimiter, KeyedSemaphore } from './rate-limit';
import { authenticatedOrigin } from './x-matrix-auth';

/** Per-origin window and concurrency (rc_federation). */
export function federationRateLimit(limiter: FederationRateLimiter): RequestHandler {
  return (_req, res, next) => {
    const origin = authenticatedOrigin(res);
    limiter.acquire(origin).then(
      (acquired) => {
        if (!acquired.ok) {
          res.setHeader('Retry-After', String(Math.ceil(acquired.retryAfterMs / 1000)));
          return next(
            new MatrixError('M_LIMIT_EXCEEDED', `Too many requests from ${origin}; retry later`, undefined, acquired.retryAfterMs),
          );
        }
        releaseWhenDone(res, acquired.release);
        next();
      },
      (error: unknown) => next(error),
    );
  };
}

/**
 * One walk at a time per (origin, room), as Synapse's linearizer serializes get_missing_events: a server asking
 * again for the same room while its first request runs waits for it rather than adding a second walk.
 */
export function oneWalkPerRoom(linearizer: KeyedSemaphore = new KeyedSemaphore(1)): RequestHandler {
  return (req, res, next) => {
    const key = `${authenticatedOrigin(res)}\u0000${String(req.params.roomId)}`;
    linearizer.acquire(key).then(
      (release) => {
        releaseWhenDone(res, release);
        next();
      },
      (error: unknown) => next(error),
    );
  };
}

/** 'close' comes after the response is sent, and also when the caller hangs up first, so the slot is always freed. */
function releaseWhenDone(res: Response, release: () => void): void {
  if (res.writableEnded || res.destroyed) return release();
  res.once('close', release);
}
