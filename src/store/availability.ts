/**
 * Whether Neo4j can be asked at the moment, for the hot path's reads (readOnce): once a read finds Neo4j gone (no
 * connection, the database not available), later reads fail at once with the same kind of error instead of each
 * waiting for a connect timeout, or for a query to come back from a server that is still starting (those wait in it
 * until the query timeout, 5 s and more). Meanwhile one probe at a time asks Neo4j `RETURN 1` every
 * PROBE_INTERVAL_MS (0.5 s), which must answer within PROBE_TIMEOUT_MS (2 s); then the hot path's statements
 * registered with `addWarmUp` run once each, so that a restarted Neo4j plans them before requests do (planning the
 * walk cold takes about 3 s here, and concurrent requests each waiting for it ran into the 5 s query timeout). The
 * first probe that gets through all of that lets reads through again.
 */
import neo4j, { type Driver, Neo4jError } from 'neo4j-driver';
import { loadCypher } from './cypher-files';

const QUERIES = loadCypher(['return-1']);

export interface AvailabilityOptions {
  readonly database: string | undefined;
  /** The warm-up statements' timeout in Neo4j; 5 s when unset. */
  readonly queryTimeoutMs?: number;
}

const PROBE_INTERVAL_MS = 500;
const PROBE_TIMEOUT_MS = 2_000;

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
        await session.run(query, params, { timeout: this.options.queryTimeoutMs ?? 5_000 });
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
    if (this.down === undefined) return;
    // A probe still waiting in Neo4j keeps its connection until Neo4j ends it: no second one meanwhile.
    if (this.probing) return this.schedule();
    let session;
    try {
      session = this.driver.session({ database: this.options.database, defaultAccessMode: neo4j.session.READ });
    } catch {
      return; // the driver is closed: nothing more to probe
    }
    this.probing = true;
    // No timeout in Neo4j: a fresh Neo4j may take more than PROBE_TIMEOUT_MS to plan even this, and ending it there
    // would make every probe start over. The next probe waits for this one instead.
    const run = session.run(QUERIES['return-1']).then(
      () => true,
      () => false,
    );
    // The warm-ups have their own timeout in Neo4j (they may plan for seconds); RETURN 1 must answer in time.
    const ready = run.then((answered) => answered && this.warmUp().then(() => true, () => false));
    void ready.finally(() => {
      this.probing = false;
      void session.close().catch(() => {});
    });
    let timeout: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      run,
      new Promise<boolean>((resolve) => {
        timeout = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timeout);
    if (answered && (await ready)) this.down = undefined;
    else if (this.down !== undefined) this.schedule();
  }
}
