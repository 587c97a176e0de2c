/**
 * One walk for a herd: requests asking the same walk (room, latest_events, earliest_events, min_depth, limit) while
 * one is in flight wait for that one instead of walking again. When a netsplit heals, every server of a busy room
 * asks for the same missing events at once; each would otherwise cost Neo4j the same walk.
 *
 * Only walks in flight are shared, never a finished one: a request that arrives after a walk has answered starts a
 * new walk, so a write (an import, the follower) is seen by every request that starts after it has committed. A
 * request that joins a walk in flight gets the graph as that walk read it, at most one walk's time earlier, exactly
 * as if it had arrived with the first caller. A result cache that outlives the walk is left out: it would have to
 * learn of every write by every process sharing the database (importers, followers, other replicas), e.g. from a
 * per-room write counter read in Neo4j, which costs a round trip of its own, most of what a walk costs here.
 */
import type { MissingEventsRequest } from '../core/missing-events-request';

/** Counts for GET /metrics: walks run, and requests answered by a walk another request started. */
export interface WalkSharingMetrics {
  started(): void;
  shared(): void;
}

/** The identity of a walk: requests with equal keys get the same rows (what depends on the origin is not in them). */
export function walkKey(request: MissingEventsRequest): string {
  return JSON.stringify([request.room_id, request.latest_events, request.earliest_events, request.min_depth, request.limit]);
}

export class WalkSharing<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  constructor(private readonly metrics?: WalkSharingMetrics) {}

  /** The result of the walk `key` in flight, or of `walk`, started now and shared until it settles. */
  run(key: string, walk: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running !== undefined) {
      this.metrics?.shared();
      return running;
    }
    this.metrics?.started();
    const started = walk();
    this.inFlight.set(key, started);
    // Removed when it settles, whichever way: a failed walk is not handed to requests that come after it.
    const forget = () => {
      if (this.inFlight.get(key) === started) this.inFlight.delete(key);
    };
    started.then(forget, forget);
    return started;
  }

  /** Walks in flight now (for tests and metrics). */
  get size(): number {
    return this.inFlight.size;
  }
}
