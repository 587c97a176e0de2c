/**
 * The request deadline (REQUEST_DEADLINE_MS): a request not answered in time gets 503 M_UNAVAILABLE with
 * Retry-After from the error middleware, whatever it is waiting on (Neo4j starting up, a key fetch, a queue), so no
 * caller waits on us for ever. Work already started runs on to its own end (Neo4j's query timeout bounds a walk),
 * holding its rate-limit slots until then, and its late answer is dropped; a request still waiting for its turn
 * when the deadline answers does no work at all (src/http/rate-limit-middleware.ts).
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { MatrixError } from '../errors';

export function requestDeadline(ms: number, answerError: ErrorRequestHandler): RequestHandler {
  return (req, res, next) => {
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      res.locals.deadlineExceeded = true;
      answerError(new MatrixError('M_UNAVAILABLE', `The request was not answered within ${ms} ms; retry shortly`), req, res, () => {});
    }, ms);
    res.once('close', () => clearTimeout(timer));
    next();
  };
}
