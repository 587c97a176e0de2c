/**
 * The rate limits as Express middleware, mounted after X-Matrix authentication so they count the verified origin
 * (an unauthenticated caller is refused before it costs anything but a signature check). A request refused by the
 * window gets 429 M_LIMIT_EXCEEDED with `retry_after_ms`; an admitted one holds its origin's slot, and then its
 * (origin, room) turn, until its handler has finished its work (the handler is wrapped in `holdsSlotsUntilDone`),
 * not merely until its response is closed: a caller that hangs up, or whose deadline answers 503, must not free a
 * slot while its walk still runs, or hanging up would bypass the limits. A request whose caller is gone (or was
 * answered by the deadline) by the time its turn comes does no work at all, as Synapse checks
 * `request._disconnected` once the ratelimiter lets a request in.
 */
import type { Request, RequestHandler, Response } from 'express';
import { MatrixError } from '../errors';
import { FederationRateLimiter, KeyedSemaphore } from './rate-limit';
import { authenticatedOrigin } from './x-matrix-auth';

/** Per-origin window and concurrency (rc_federation). */
export function federationRateLimit(limiter: FederationRateLimiter): RequestHandler {
  return (_req, res, next) => {
    const origin = authenticatedOrigin(res);
    limiter.acquire(origin, closed(res)).then(
      (acquired) => {
        if (acquired.ok && acquired.abandoned === true) return;
        if (!acquired.ok) {
          res.setHeader('Retry-After', String(Math.ceil(acquired.retryAfterMs / 1000)));
          return next(
            new MatrixError('M_LIMIT_EXCEEDED', `Too many requests from ${origin}; retry later`, undefined, acquired.retryAfterMs),
          );
        }
        if (hold(res, acquired.release)) next();
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
    linearizer.acquire(key, closed(res)).then(
      (release) => {
        if (release === undefined) return;
        if (hold(res, release)) next();
      },
      (error: unknown) => next(error),
    );
  };
}

/**
 * Wraps the route's handler so that the slots its request holds are freed when the handler's work is done (its
 * promise settled), and so that it does not run at all for a caller already gone. Without rate limits mounted it
 * only skips the handler for a caller already gone.
 */
export function holdsSlotsUntilDone(handler: (req: Request, res: Response) => Promise<unknown>): RequestHandler {
  return async (req, res) => {
    const slots = held.get(res);
    if (callerGone(res)) return slots?.releaseAll();
    if (slots === undefined) return void (await handler(req, res));
    slots.handlerRunning = true;
    try {
      await handler(req, res);
    } finally {
      slots.releaseAll();
    }
  };
}

/** The slots one request holds, and whether its handler has started (from then on only the handler frees them). */
interface HeldSlots {
  readonly releases: (() => void)[];
  handlerRunning: boolean;
  releaseAll(): void;
}

const held = new WeakMap<Response, HeldSlots>();

/**
 * Records a slot the request now holds, and says whether the request should go on. A caller gone while it waited
 * gets no work: the slot passes straight on. Until the handler starts, the response closing (an error answered by
 * the error middleware, the deadline's 503, a hang-up) frees the slots, since no work of this request will run.
 */
function hold(res: Response, release: () => void): boolean {
  if (callerGone(res)) {
    release();
    held.get(res)?.releaseAll();
    return false;
  }
  let slots = held.get(res);
  if (slots === undefined) {
    const created: HeldSlots = {
      releases: [],
      handlerRunning: false,
      releaseAll: () => {
        for (const free of created.releases.splice(0)) free();
      },
    };
    res.once('close', () => {
      if (!created.handlerRunning) created.releaseAll();
    });
    held.set(res, created);
    slots = created;
  }
  slots.releases.push(release);
  return true;
}

const closeSignals = new WeakMap<Response, AbortSignal>();

/**
 * The reason every close aborts with: one object. abort() without a reason builds a DOMException, with its stack, for
 * every response that closes, queued or not: 1.2% of the service's CPU under load (node --cpu-prof, bench endpoint).
 */
const RESPONSE_CLOSED = Object.freeze({ name: 'ResponseClosed', message: 'the response closed' });

/**
 * Aborts when the response closes (the caller hung up, or the request was answered, by the deadline say): a request
 * still queued for a slot then leaves the queue rather than keep its body in memory until its turn.
 */
function closed(res: Response): AbortSignal {
  let signal = closeSignals.get(res);
  if (signal === undefined) {
    const controller = new AbortController();
    if (res.closed) controller.abort(RESPONSE_CLOSED);
    else res.once('close', () => controller.abort(RESPONSE_CLOSED));
    signal = controller.signal;
    closeSignals.set(res, signal);
  }
  return signal;
}

/** The caller hung up, or the request was answered already (the deadline's 503): nothing it asked for is wanted. */
function callerGone(res: Response): boolean {
  return res.destroyed || res.writableEnded || res.locals.deadlineExceeded === true;
}
