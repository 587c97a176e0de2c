/**
 * Reads a request body as JSON whatever its Content-Type (Synapse does the same), within the size limit: too
 * large is M_TOO_LARGE, not JSON is M_NOT_JSON. The parsed body is `req.body`, undefined when there was none.
 */
import express, { type RequestHandler } from 'express';
import { MatrixError } from '../errors';

export function jsonBody(limitBytes: number): RequestHandler[] {
  return [
    express.raw({ type: () => true, limit: limitBytes }),
    (req, _res, next) => {
      const raw = req.body as unknown;
      if (!Buffer.isBuffer(raw) || raw.length === 0) {
        req.body = undefined;
        return next();
      }
      try {
        req.body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
      } catch {
        return next(new MatrixError('M_NOT_JSON', 'The request body is not valid JSON'));
      }
      next();
    },
  ];
}
