/**
 * The follower's Prometheus metrics (prom-client), on the registry it is given: the ops listener's (serve --follow)
 * or its own (maxtryx follow). Lag is visible two ways: how many stream positions Synapse has persisted that the
 * graph lacks, and how old the oldest of them is; and each event's delay from Synapse receiving it to its commit.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface FollowMetrics {
  readonly behind: Gauge;
  readonly lagSeconds: Gauge;
  readonly visibleDelay: Histogram;
  readonly events: Counter<'direction'>;
  readonly caughtUp: Gauge;
  readonly errors: Counter;
  readonly position: Gauge<'direction'>;
}

export function createFollowMetrics(registry: Registry): FollowMetrics {
  const registers = [registry];
  return {
    behind: new Gauge({
      name: 'maxtryx_follow_events_behind',
      help: 'Stream positions Synapse has persisted that the graph does not hold yet (new and backfilled events, de-outlierings)',
      registers,
    }),
    lagSeconds: new Gauge({
      name: 'maxtryx_follow_lag_seconds',
      help: 'Age of the oldest event Synapse persisted that the graph does not hold yet (from events.received_ts); 0 when caught up',
      registers,
    }),
    visibleDelay: new Histogram({
      name: 'maxtryx_follow_visible_delay_seconds',
      help: 'Time from Synapse receiving an event (events.received_ts) to its commit in the graph',
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30, 60],
      registers,
    }),
    events: new Counter({
      name: 'maxtryx_follow_events_total',
      help: 'Events read from Synapse and committed to the graph, by direction (forward, backfill, de_outlier)',
      labelNames: ['direction'] as const,
      registers,
    }),
    caughtUp: new Gauge({
      name: 'maxtryx_follow_caught_up',
      help: '1 once the first catch-up has finished (the follower is ready), else 0',
      registers,
    }),
    errors: new Counter({
      name: 'maxtryx_follow_errors_total',
      help: 'Times following stopped on an error (Synapse database or Neo4j unavailable) and was retried after a backoff',
      registers,
    }),
    position: new Gauge({
      name: 'maxtryx_follow_position',
      help: "The follower's stream position in the Synapse database (forward: new events; backward: backfill)",
      labelNames: ['direction'] as const,
      registers,
    }),
  };
}
