/**
 * A follower with its metrics on a registry and its readiness as a check for the ops listener's /ready: what both
 * `maxtryx follow` and `serve --follow` run.
 */
import type { Registry } from 'prom-client';
import type { ReadinessCheck } from '../http/health';
import type { Logger } from '../logger';
import type { Graph } from '../store/neo4j';
import { createFollowMetrics } from './follow-metrics';
import { Follower, type FollowerOptions } from './follower';

export interface RunningFollower {
  readonly follower: Follower;
  /** Not ready while the first catch-up runs. */
  readonly readiness: ReadinessCheck;
  stop(): Promise<void>;
}

export function startFollower(options: {
  readonly source: string;
  readonly rooms: readonly string[];
  readonly graph: Graph;
  readonly logger: Logger;
  readonly registry: Registry;
} & Pick<FollowerOptions, 'pageSize' | 'pollMs'>): RunningFollower {
  const follower = new Follower({ ...options, metrics: createFollowMetrics(options.registry) });
  follower.start();
  return { follower, readiness: async () => follower.readiness(), stop: () => follower.stop() };
}
