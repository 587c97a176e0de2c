/**
 * Where a follower is in a Synapse database's events stream. Synapse numbers what it persists with stream orderings:
 * new events (and de-outlierings, in `ex_outlier_stream`) count up from 1, backfilled events count down from -1. A
 * follower holds every position in (backward, forward]; it reads forward up to the position Synapse has finished
 * persisting up to, and backward down to the backfill stream's. Pure.
 */
export interface FollowPosition {
  /** Every position in 1..forward is in the graph (or was never an event of the rooms followed). */
  readonly forward: number;
  /** Every position in backward..-1 is in the graph; 0 when nothing backfilled was read. */
  readonly backward: number;
}

export const START: FollowPosition = { forward: 0, backward: 0 };

/** How far Synapse has finished persisting: each stream's position below which nothing is still being written. */
export interface PersistedUpTo {
  readonly forward: number;
  readonly backward: number;
}

/** Stream positions persisted that the follower does not hold yet (events, plus de-outlierings), never negative. */
export function positionsBehind(position: FollowPosition, persisted: PersistedUpTo): number {
  return Math.max(0, persisted.forward - position.forward) + Math.max(0, position.backward - persisted.backward);
}
