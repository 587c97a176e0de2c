/**
 * Whether Neo4j can be asked at the moment, for the hot path's reads (readOnce): once a read finds Neo4j gone (no
 * connection, the database not available), later reads fail at once with the same kind of error instead of each
 * waiting for a connect timeout, or for a query to come back from a server that is still starting (those wait in it
 * until the query timeout, 5 s and more). Meanwhile one probe at a time asks Neo4j `RETURN 1`, PROBE_INTERVAL_MS
 * (0.5 s) after the last one ended; then the hot path's statements registered with `addWarmUp` run once each, so
 * that a restarted Neo4j plans them before requests do (planning the walk cold takes about 3 s here, and concurrent
 * requests each waiting for it ran into the 5 s query timeout). The first probe that gets through all of that lets
 * reads through again, however long it took.
 *
 * Nothing here may stall recovery on a slow host: a probe's answer counts whenever it comes (one that took longer
 * than 2 s used to be thrown away, so a busy host had to get through a second full probe), the warm-ups have a
 * generous timeout of their own rather than the query timeout (a timeout that ends the planning leaves nothing in
 * the plan cache, so every probe would start planning over), and a probe that has not ended after PROBE_ABANDON_MS
 * is given up so that a new one (on a new connection) can start.
 */
import neo4j, { type Driver, Neo4jError } from 'neo4j-driver';
import { loadCypher } from './cypher-files';

const QUERIES = loadCypher(['return-1']);

export interface AvailabilityOptions {
  readonly database: string | undefined;
  /** The hot path's query timeout (NEO4J_QUERY_TIMEOUT_MS); the warm-ups take the longer of it and WARM_UP_TIMEOUT_MS. */
  readonly queryTimeoutMs?: number;
  /** PROBE_ABANDON_MS unless given (tests shorten it). */
  readonly probeAbandonMs?: number;
}

const PROBE_INTERVAL_MS = 500;
/**
 * The warm-ups read a room that does not exist: all their time is planning, 3 s cold on an idle 2-core host and
 * several times that on a busy one. Generous, so that a slow plan is finished (and cached) rather than cut off.
 */
export const WARM_UP_TIMEOUT_MS = 60_000;
/** A probe still running after this (a Neo4j that accepted the query and never answers) no longer blocks a new one. */
export const PROBE_ABANDON_MS = WARM_UP_TIMEOUT_MS + 10_000;

/** Errors that say Neo4j itself is gone, rather than one query being slow or wrong. */
export function meansNeo4jIsGone(error: unknown): boolean {
  if (!(error instanceof Neo4jError)) return false;
  return (
    error.code === 'ServiceUnavailable' ||
    error.code === 'SessionExpired' ||
    error.code === 'Neo.TransientError.General.DatabaseUnavailable'
  );
}

export class Neo4jAvailability {
  private down: { readonly since: number; readonly reason: string } | undefined;
  private probing = false;
  private readonly warmUps = new Map<string, object>();

  constructor(
    private readonly driver: Driver,
    private readonly options: AvailabilityOptions,
  ) {}

  /** Throws a ServiceUnavailable Neo4jError while Neo4j is known to be gone. */
  assertUp(): void {
    if (this.down === undefined) return;
    throw new Neo4jError(`Neo4j has been unavailable for ${Date.now() - this.down.since} ms: ${this.down.reason}`, 'ServiceUnavailable', '', '');
  }

  /** A statement to run, with parameters of the types requests use (the plan cache keys on them), before reads resume. */
  addWarmUp(query: string, params: object): void {
    this.warmUps.set(query, params);
  }

  /** Runs the warm-up statements once each (at start-up, and after an outage); rejects with the first failure. */
  async warmUp(): Promise<void> {
    for (const [query, params] of this.warmUps) {
      const session = this.driver.session({ database: this.options.database, defaultAccessMode: neo4j.session.READ });
      try {
        await session.run(query, params, { timeout: Math.max(this.options.queryTimeoutMs ?? 0, WARM_UP_TIMEOUT_MS) });
      } finally {
        await session.close();
      }
    }
  }

  /** Tells it a read failed; when the error says Neo4j is gone, reads stop until a probe gets an answer. */
  failed(error: unknown): void {
    if (this.down !== undefined || !meansNeo4jIsGone(error)) return;
    this.down = { since: Date.now(), reason: (error as Error).message.split('\n')[0]! };
    this.schedule();
  }

  private schedule(): void {
    setTimeout(() => void this.probe(), PROBE_INTERVAL_MS).unref();
  }

  private async probe(): Promise<void> {
    // One probe at a time: it schedules the next when it ends.
    if (this.down === undefined || this.probing) return;
    let session;
    try {
      session = this.driver.session({ database: this.options.database, defaultAccessMode: neo4j.session.READ });
    } catch {
      return; // the driver is closed: nothing more to probe
    }
    this.probing = true;
    // No timeout in Neo4j for RETURN 1: a fresh Neo4j may take seconds to plan even this, and ending it would make
    // every probe start over. Its answer counts whenever it comes; the warm-ups then have their own timeout.
    const attempt = session.run(QUERIES['return-1']).then(() => this.warmUp()).then(
      () => true,
      () => false,
    );
    void attempt.finally(() => void session.close().catch(() => {}));
    let abandon: NodeJS.Timeout | undefined;
    const givenUp = new Promise<boolean>((resolve) => {
      abandon = setTimeout(() => resolve(false), this.options.probeAbandonMs ?? PROBE_ABANDON_MS);
      abandon.unref();
    });
    const up = await Promise.race([attempt, givenUp]);
    clearTimeout(abandon);
    this.probing = false;
    if (up) this.down = undefined;
    else if (this.down !== undefined) this.schedule();
  }
}
