/**
 * Walks waiting for Neo4j go out together: at most `inFlight` queries run at once (the connection pool's size), and
 * the walks that arrive while they run wait, then leave as one query of up to `batch` walks (cypher/walk.cypher
 * takes a list). A walk that finds a query slot free leaves at once, alone, so batching adds no wait at low load;
 * under load each walk pays a share of one query's fixed cost (the driver's writes and Bolt messages, Neo4j's
 * per-query work) instead of all of it. Each walk gets its own row, or the batch's error.
 */

/** For GET /metrics: each query sent, with how many walks it carries. */
export interface WalkBatchingMetrics {
  sent(walks: number): void;
}

/** Runs the walks of one batch and returns their results in the same order. */
export type RunBatch<Walk, Row> = (walks: readonly Walk[]) => Promise<readonly Row[]>;

interface Waiting<Walk, Row> {
  readonly walk: Walk;
  readonly resolve: (row: Row) => void;
  readonly reject: (error: unknown) => void;
}

export class WalkBatching<Walk, Row> {
  private readonly waiting: Waiting<Walk, Row>[] = [];
  private running = 0;

  constructor(
    private readonly runBatch: RunBatch<Walk, Row>,
    private readonly inFlight: number,
    private readonly batch: number,
    private readonly metrics?: WalkBatchingMetrics,
  ) {
    if (!(inFlight >= 1 && batch >= 1)) throw new RangeError(`WalkBatching needs inFlight and batch >= 1 (got ${inFlight}, ${batch})`);
  }

  /** The walk's row, from a query of its own or shared with walks that waited beside it. */
  run(walk: Walk): Promise<Row> {
    return new Promise<Row>((resolve, reject) => {
      this.waiting.push({ walk, resolve, reject });
      this.next();
    });
  }

  /** Walks waiting for a query slot (for tests). */
  get queued(): number {
    return this.waiting.length;
  }

  private next(): void {
    while (this.running < this.inFlight && this.waiting.length > 0) {
      const taken = this.waiting.splice(0, this.batch);
      this.running += 1;
      this.metrics?.sent(taken.length);
      void this.send(taken).finally(() => {
        this.running -= 1;
        this.next();
      });
    }
  }

  private async send(taken: readonly Waiting<Walk, Row>[]): Promise<void> {
    let rows: readonly Row[];
    try {
      rows = await this.runBatch(taken.map((waiting) => waiting.walk));
      if (rows.length !== taken.length) throw new Error(`A batch of ${taken.length} walks returned ${rows.length} rows`);
    } catch (error) {
      for (const waiting of taken) waiting.reject(error);
      return;
    }
    taken.forEach((waiting, i) => waiting.resolve(rows[i]!));
  }
}
