/**
 * Reads a request body as JSON whatever its Content-Type (Synapse does the same), within the size limit: too
 * large is M_TOO_LARGE, not JSON is M_NOT_JSON. The parsed body is `req.body`, undefined when there was none.
 */
import express, { type RequestHandler } from 'express';
import { MatrixError } from '../errors';

/**
 * Arrays and objects nested deeper than this are refused (M_BAD_JSON): canonical JSON, which the X-Matrix check
 * computes, recurses, and 100,000 levels (200 KB of brackets) would overflow the stack. No request is that deep.
 */
export const MAX_JSON_DEPTH = 100;

/** Each request's body bytes as received (after Content-Encoding), for the pass-through (src/http/pass-through.ts). */
const rawBodies = new WeakMap<object, Buffer>();

/** The request's body bytes as jsonBody read them; an empty buffer when there was none. */
export function rawBody(req: object): Buffer {
  return rawBodies.get(req) ?? Buffer.alloc(0);
}

export function jsonBody(limitBytes: number): RequestHandler[] {
  return [
    express.raw({ type: () => true, limit: limitBytes }),
    (req, _res, next) => {
      const raw = req.body as unknown;
      if (Buffer.isBuffer(raw)) rawBodies.set(req, raw);
      if (!Buffer.isBuffer(raw) || raw.length === 0) {
        req.body = undefined;
        return next();
      }
      try {
        req.body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
      } catch {
        return next(new MatrixError('M_NOT_JSON', 'The request body is not valid JSON'));
      }
      if (nestingDepth(req.body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
        return next(new MatrixError('M_BAD_JSON', `The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`));
      }
      next();
    },
  ];
}

/** How deep arrays and objects nest in `value`, counted without recursion, stopping once past `limit`. */
function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return deepest;
}
