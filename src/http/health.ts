/**
 * GET /health: the process is alive (no I/O). GET /ready: Neo4j answers and the schema is applied, so requests can
 * be served; 503 M_UNAVAILABLE otherwise, with the reason logged. For load balancers and orchestrators.
 */
import { Router } from 'express';
import { MatrixError } from '../errors';
import { methodNotAllowed } from './errors';

export function healthRoutes(assertReady: () => Promise<void>): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.all('/health', methodNotAllowed);
  router.get('/ready', async (_req, res) => {
    try {
      await assertReady();
    } catch (error) {
      res.locals.notReadyReason = (error as Error).message;
      throw new MatrixError('M_UNAVAILABLE', `Not ready: ${(error as Error).message}`);
    }
    res.json({ status: 'ready' });
  });
  router.all('/ready', methodNotAllowed);
  return router;
}
