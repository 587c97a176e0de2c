/**
 * The federation routes this service answers. Each handler is a thin shell: the authenticated origin comes from
 * the X-Matrix middleware, the work from the service layer. A get_missing_events request naming a latest event we
 * do not hold goes to the homeserver when there is one (src/http/pass-through.ts): after the body is read, the
 * X-Matrix authentication, the rate limits and the request's validation, so only a well-formed request signed by a
 * server we verified, within its limits, is ever passed on (we are no open proxy).
 */
import { Router, type Request, type Response } from 'express';
import { isObject } from '../core/json';
import { MatrixError } from '../errors';
import { getMissingEvents, type MissingEventsDeps } from '../service/get-missing-events';
import { serverKeysResponse, type LocalServer } from '../service/server-keys';
import { methodNotAllowed } from './errors';
import { EXACT_PATHS } from './exact-paths';
import { rawBody } from './json-body';
import type { PassThrough } from './pass-through';
import { holdsSlotsUntilDone } from './rate-limit-middleware';
import type { RequestHandler } from 'express';

export const MISSING_EVENTS_PATH = '/_matrix/federation/v1/get_missing_events/:roomId';

export function federationRoutes(
  deps: MissingEventsDeps,
  authenticate: RequestHandler[],
  readBody: RequestHandler[],
  passThrough?: PassThrough,
): Router {
  const router = Router(EXACT_PATHS);
  router.post(MISSING_EVENTS_PATH, ...readBody, ...authenticate, holdsSlotsUntilDone(async (req: Request, res: Response) => {
    const origin = res.locals.origin as string;
    const roomId = req.params.roomId as string;
    res.locals.roomId = roomId;
    if (req.body === undefined) throw new MatrixError('M_NOT_JSON', 'The request body is missing; send a JSON object');
    if (isObject(req.body)) {
      // For the request log only; the service validates the body.
      if (Array.isArray(req.body.latest_events)) res.locals.latestCount = req.body.latest_events.length;
      if (Array.isArray(req.body.earliest_events)) res.locals.earliestCount = req.body.earliest_events.length;
    }
    const result = await getMissingEvents(deps, origin, roomId, req.body, { passOnWhenBehind: passThrough !== undefined });
    if ('latestNotHeld' in result) {
      res.locals.passedThrough = true;
      return passThrough!.forward(req, res, rawBody(req));
    }
    const { pdus, redacted } = result;
    res.locals.eventCount = pdus.length;
    res.locals.redactedCount = redacted;
    // Each PDU goes out as the JSON string it was imported as: no re-encoding, byte for byte what was signed.
    res.type('application/json').send(`{"events":[${pdus.join(',')}]}`);
  }));
  router.all(MISSING_EVENTS_PATH, methodNotAllowed);
  return router;
}

export function localServerRoutes(server: LocalServer, now: () => number, version: string): Router {
  const router = Router(EXACT_PATHS);
  router.get('/_matrix/key/v2/server', (_req, res) => {
    res.json(serverKeysResponse(server, now()));
  });
  router.all('/_matrix/key/v2/server', methodNotAllowed);
  router.get('/_matrix/federation/v1/version', (_req, res) => {
    res.json({ server: { name: 'MaxTryX missing-events', version } });
  });
  router.all('/_matrix/federation/v1/version', methodNotAllowed);
  return router;
}
