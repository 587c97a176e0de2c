/**
 * The ops listener (OPS_HOST:OPS_PORT, loopback by default): GET /health, GET /ready and GET /metrics, apart from the
 * federation listener as Synapse serves its metrics on a listener of their own, so that what the service reports
 * about itself is not open to whoever can reach the federation port. /health is also on the federation listener;
 * /ready and /metrics are only here.
 *
 * /ready asks every readiness check at once (the room graph from main.ts; the follower of `serve --follow` adds its
 * own) within READY_TIMEOUT_MS, and answers 200 {"status":"ready"} or 503 M_UNAVAILABLE with Retry-After and the
 * checks' generic reasons. The list is read on every request, so a check pushed onto it later counts from then on.
 */
import express, { type Express } from 'express';
import { MatrixError } from '../errors';
import type { Logger } from '../logger';
import { errorHandler, methodNotAllowed, notFound } from './errors';
import { EXACT_PATHS } from './exact-paths';
import { healthRoutes, type ReadinessCheck } from './health';
import type { Metrics } from './metrics';

export interface OpsAppDeps {
  readonly metrics: Metrics;
  /** What /ready waits for; read on every request. */
  readonly readiness: readonly ReadinessCheck[];
  readonly logger: Logger;
  /** How long /ready waits for its checks; READY_TIMEOUT_MS unless given. */
  readonly readyTimeoutMs?: number;
}

/**
 * A check that has not answered by then counts as not ready: an orchestrator's probe (compose: 3 s) should get a
 * 503 from us rather than time out, and a Neo4j that accepts a query and does not answer must not hold /ready.
 */
export const READY_TIMEOUT_MS = 2_000;
export const NOT_ANSWERED_IN_TIME = 'a readiness check did not answer in time';
export const CHECK_FAILED = 'a readiness check failed';

export function createOpsApp(deps: OpsAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Exact paths, as the routers' EXACT_PATHS: /READY or /ready/ is another path (404).
  app.set('case sensitive routing', EXACT_PATHS.caseSensitive);
  app.set('strict routing', EXACT_PATHS.strict);
  app.use(healthRoutes());
  app.get('/ready', async (_req, res) => {
    const reasons = await notReadyReasons(deps.readiness, deps.readyTimeoutMs ?? READY_TIMEOUT_MS, deps.logger);
    if (reasons.length === 0) return void res.json({ status: 'ready' });
    // Answered here rather than by the error middleware, which would log every probe's 503 as a failed request;
    // the checks logged their detail already. The same body and Retry-After as any other 503 M_UNAVAILABLE.
    res.locals.errcode = 'M_UNAVAILABLE';
    res.status(503).setHeader('Retry-After', '2');
    res.json(new MatrixError('M_UNAVAILABLE', `Not ready: ${reasons.join('; ')}`).toJSON());
  });
  app.all('/ready', methodNotAllowed);
  app.use(deps.metrics.routes);
  app.all('/metrics', methodNotAllowed);
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}

/** Every check's reason, in the list's order, each once; a check that throws or is late gets a generic one. */
async function notReadyReasons(checks: readonly ReadinessCheck[], timeoutMs: number, logger: Logger): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(NOT_ANSWERED_IN_TIME), timeoutMs);
  });
  try {
    const reasons = await Promise.all(
      checks.map((check) =>
        Promise.race([
          check().catch((error: unknown) => {
            logger.warn('not ready: a readiness check failed', { error: (error as Error)?.message?.split('\n')[0] ?? String(error) });
            return CHECK_FAILED;
          }),
          late,
        ]),
      ),
    );
    return [...new Set(reasons.filter((reason): reason is string => reason !== undefined))];
  } finally {
    clearTimeout(timer);
  }
}
