/**
 * createApp(deps) builds the federation listener's Express app from its dependencies; main.ts wires the real ones
 * and tests build their own on port 0. Order: request log, routes (body, then X-Matrix authentication, then the
 * handler), 404 for anything else, and the error middleware that turns every failure into a Matrix error body.
 * /health is here too; /ready and /metrics are only on the ops listener (src/http/ops-app.ts), so they are 404 here.
 */
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from '../logger';
import type { MissingEventsDeps } from '../service/get-missing-events';
import type { LocalServer } from '../service/server-keys';
import { requestDeadline } from './deadline';
import { errorHandler, notFound } from './errors';
import { healthRoutes } from './health';
import { jsonBody } from './json-body';
import { createMetrics, type Metrics } from './metrics';
import type { PassThrough } from './pass-through';
import { requestLog } from './request-log';
import { federationRoutes, localServerRoutes } from './routes';

export interface AppDeps {
  readonly missingEvents: MissingEventsDeps;
  readonly server: LocalServer;
  /** The X-Matrix middleware; it sets res.locals.origin. */
  readonly authenticate: RequestHandler;
  /** Run after authentication: the per-origin rate limits (src/http/rate-limit-middleware.ts); none when absent. */
  readonly rateLimit?: readonly RequestHandler[];
  /** A request not answered within this many ms gets 503 M_UNAVAILABLE (REQUEST_DEADLINE_MS); none when absent. */
  readonly requestDeadlineMs?: number;
  /** What counts the requests; the ops listener shows them (GET /metrics). The app's own when absent. */
  readonly metrics?: Metrics;
  /** Where get_missing_events requests naming latest events we do not hold go (UPSTREAM_FEDERATION_URL); none when absent. */
  readonly passThrough?: PassThrough;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  readonly now?: () => number;
  readonly version?: string;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const metrics = deps.metrics ?? createMetrics();
  app.use(requestLog(deps.logger));
  app.use(metrics.count);
  if (deps.requestDeadlineMs !== undefined) app.use(requestDeadline(deps.requestDeadlineMs, errorHandler(deps.logger)));
  app.use(healthRoutes());
  app.use(localServerRoutes(deps.server, deps.now ?? Date.now, deps.version ?? '0.1.0'));
  app.use(federationRoutes(deps.missingEvents, [deps.authenticate, ...(deps.rateLimit ?? [])], jsonBody(deps.bodyLimitBytes), deps.passThrough));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
