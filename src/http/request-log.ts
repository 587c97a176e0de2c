/** One JSON log line per request: a request ID, the origin, the room, what was returned and how long it took. */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger';

export function requestLog(logger: Logger, now: () => number = () => performance.now()): RequestHandler {
  return (req, res, next) => {
    const started = now();
    const requestId = randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      logger.info('request', {
        request_id: requestId,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        errcode: res.locals.errcode,
        origin: res.locals.origin,
        room_id: res.locals.roomId,
        latest_events: res.locals.latestCount,
        earliest_events: res.locals.earliestCount,
        events: res.locals.eventCount,
        duration_ms: Math.round((now() - started) * 10) / 10,
      });
    });
    next();
  };
}
