/**
 * GET /health: the process is alive (no I/O); served on the federation listener and on the ops listener, as Synapse
 * serves it on every listener. Readiness (GET /ready) is the ops listener's alone (src/http/ops-app.ts); this file
 * also holds its check of the room graph, which answers the caller with a generic reason and logs the detail (a
 * Neo4j address or driver error says too much about our network to whoever can reach the port).
 */
import { Router } from 'express';
import type { Logger } from '../logger';
import { methodNotAllowed } from './errors';
import { EXACT_PATHS } from './exact-paths';

/** One thing /ready waits for: undefined when it is ready, else a short generic reason (no addresses, no errors). */
export type ReadinessCheck = () => Promise<string | undefined>;

export function healthRoutes(): Router {
  const router = Router(EXACT_PATHS);
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.all('/health', methodNotAllowed);
  return router;
}

/** The generic reason /ready gives while the room graph cannot be read or its schema is not applied. */
export const ROOM_GRAPH_NOT_READY = 'the room graph is not available';

/** While not ready, the detail is logged again at most this often: orchestrators probe every few seconds. */
const LOG_AGAIN_MS = 60_000;

/**
 * Ready when `assertReady` resolves (src/store/neo4j.ts: Neo4j answers and the schema is applied). Its error goes to
 * the log at warn level when the room graph stops being ready and then once a minute, and the caller gets
 * ROOM_GRAPH_NOT_READY.
 */
export function roomGraphReadiness(assertReady: () => Promise<void>, logger: Logger, now: () => number = Date.now): ReadinessCheck {
  let loggedAt: number | undefined;
  return async () => {
    try {
      await assertReady();
      loggedAt = undefined;
      return undefined;
    } catch (error) {
      if (loggedAt === undefined || now() - loggedAt >= LOG_AGAIN_MS) {
        logger.warn('not ready: the room graph cannot be read', { error: (error as Error).message.split('\n')[0] });
        loggedAt = now();
      }
      return ROOM_GRAPH_NOT_READY;
    }
  };
}
