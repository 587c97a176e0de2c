/**
 * createApp(deps) builds the Express app from its dependencies; main.ts wires the real ones and tests build their
 * own on port 0. Order: request log, routes (body, then X-Matrix authentication, then the handler), 404 for
 * anything else, and the error middleware that turns every failure into a Matrix error body.
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
  /** What GET /ready checks (Neo4j answers, schema applied); /ready always answers ready when absent. */
  readonly assertReady?: () => Promise<void>;
  /** The metrics GET /metrics shows; main.ts creates them first to hand their key counters to the key fetcher. */
  readonly metrics?: Metrics;
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
  app.use(metrics.routes);
  app.use(healthRoutes(deps.assertReady ?? (async () => {})));
  app.use(localServerRoutes(deps.server, deps.now ?? Date.now, deps.version ?? '0.1.0'));
  app.use(federationRoutes(deps.missingEvents, [deps.authenticate, ...(deps.rateLimit ?? [])], jsonBody(deps.bodyLimitBytes)));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
