/**
 * GET /metrics (served on the ops listener, src/http/ops-app.ts) in Prometheus's text format (prom-client), from one
 * registry per app: requests by route, status and errcode, their latency, the events get_missing_events returned and
 * how many of them went out redacted, Neo4j being unavailable, server keys found in memory and fetched, import
 * totals, requests passed through to the homeserver and their latency, and the process's own figures (CPU,
 * memory, event loop lag). Counting is a few increments
 * when a response finishes; labels are the route's pattern, never the room or the origin, so they stay few.
 */
import { Router, type RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { KeyFetcherMetrics } from '../federation/key-fetcher';
import type { ImportSummary } from '../importer/importer';
import type { WalkBatchingMetrics } from '../store/walk-batching';
import type { WalkSharingMetrics } from '../store/walk-sharing';
import { EXACT_PATHS } from './exact-paths';
import type { PassThroughMetrics } from './pass-through';

export interface Metrics {
  /** The registry /metrics serves: other parts (the follower of serve --follow) add their metrics to it. */
  readonly registry: Registry;
  readonly count: RequestHandler;
  readonly routes: Router;
  /** For the key fetcher's deps: keys found in memory, fetches and their outcome. */
  readonly keys: KeyFetcherMetrics;
  /** For the pass-through to the homeserver: each one's outcome and latency. */
  readonly passThrough: PassThroughMetrics;
  /**
   * For the event store: walks run, requests answered by a walk in flight for the same request (a herd), and the
   * queries that carried the walks.
   */
  readonly walks: WalkSharingMetrics & WalkBatchingMetrics;
  /** Adds an import's totals (the demo room main.ts imports at start). */
  recordImport(summary: ImportSummary): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'maxtryx_http_requests_total',
    help: 'HTTP requests answered, by route pattern, status and Matrix errcode ("" for none)',
    labelNames: ['route', 'status', 'errcode'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'maxtryx_http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its answer, by route pattern',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const returned = new Counter({
    name: 'maxtryx_missing_events_returned_total',
    help: 'Events sent in get_missing_events answers',
    registers: [registry],
  });
  const redacted = new Counter({
    name: 'maxtryx_missing_events_redacted_total',
    help: 'Events sent redacted because the calling server may not see them (history visibility)',
    registers: [registry],
  });
  const unavailable = new Counter({
    name: 'maxtryx_neo4j_unavailable_total',
    help: 'Requests answered 503 because Neo4j was unreachable, busy or too slow',
    registers: [registry],
  });

  const keyCacheHits = new Counter({
    name: 'maxtryx_key_cache_hits_total',
    help: 'Request signatures checked with a server key already in memory',
    registers: [registry],
  });
  const keyFetches = new Counter({
    name: 'maxtryx_key_fetches_total',
    help: 'Attempts to fetch a server key from the server or a notary, by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const imported = new Counter({
    name: 'maxtryx_import_events_total',
    help: 'Import lines by outcome (stored, unchanged, skipped, rejected, soft_failed, state_pending, hash_mismatch)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const passed = new Counter({
    name: 'maxtryx_pass_through_requests_total',
    help: 'get_missing_events requests passed through to the homeserver, by outcome (answered, failed, timed_out)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const passedDuration = new Histogram({
    name: 'maxtryx_pass_through_duration_seconds',
    help: 'Time from sending a request to the homeserver to having its whole answer (or giving up)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const walkQueries = new Counter({
    name: 'maxtryx_walks_total',
    help: 'get_missing_events walks: run ("started") or answered by the same walk in flight for another request ("shared")',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const walkBatches = new Counter({
    name: 'maxtryx_walk_queries_total',
    help: 'Walk queries sent to Neo4j; each carries one walk, or several that waited for a connection (walks per query: maxtryx_walks_total{outcome="started"} / this)',
    registers: [registry],
  });
  for (const outcome of ['answered', 'failed', 'timed_out'] as const) passed.inc({ outcome }, 0);
  walkQueries.inc({ outcome: 'started' }, 0);
  walkQueries.inc({ outcome: 'shared' }, 0);
  keyFetches.inc({ outcome: 'ok' }, 0);
  keyFetches.inc({ outcome: 'failed' }, 0);

  const count: RequestHandler = (req, res, next) => {
    const started = performance.now();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const errcode = (res.locals.errcode as string | undefined) ?? '';
      requests.inc({ route, status: String(res.statusCode), errcode });
      duration.observe({ route }, (performance.now() - started) / 1000);
      if (typeof res.locals.eventCount === 'number') returned.inc(res.locals.eventCount);
      if (typeof res.locals.redactedCount === 'number') redacted.inc(res.locals.redactedCount);
      // 503 only: the pass-through's 502 and 504 are the homeserver's unavailability, counted with the pass-through.
      if (errcode === 'M_UNAVAILABLE' && res.statusCode === 503) unavailable.inc();
    });
    next();
  };
  const routes = Router(EXACT_PATHS);
  routes.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  const keys: KeyFetcherMetrics = {
    cacheHit: () => keyCacheHits.inc(),
    fetched: (outcome) => keyFetches.inc({ outcome }),
  };
  const recordImport = (summary: ImportSummary) => {
    imported.inc({ outcome: 'stored' }, summary.stored);
    imported.inc({ outcome: 'unchanged' }, summary.unchanged);
    imported.inc({ outcome: 'skipped' }, summary.skipped);
    imported.inc({ outcome: 'rejected' }, summary.rejected);
    imported.inc({ outcome: 'soft_failed' }, summary.softFailed);
    imported.inc({ outcome: 'state_pending' }, summary.statePending);
    imported.inc({ outcome: 'hash_mismatch' }, summary.hashMismatches);
  };
  const passThrough: PassThroughMetrics = {
    record: (outcome, seconds) => {
      passed.inc({ outcome });
      passedDuration.observe(seconds);
    },
  };
  const walks: WalkSharingMetrics & WalkBatchingMetrics = {
    started: () => walkQueries.inc({ outcome: 'started' }),
    shared: () => walkQueries.inc({ outcome: 'shared' }),
    sent: () => walkBatches.inc(),
  };
  return { registry, count, routes, keys, passThrough, walks, recordImport };
}
