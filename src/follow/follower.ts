/**
 * Follows a Synapse database: imports what is there, then what Synapse persists, until stopped. One import path:
 * the stream's lines go to the same Importer as `import --from-synapse`, and each page of the stream is committed
 * in ONE transaction with the position it reaches (Importer.commit), so a crash at any moment leaves a position
 * that matches the graph; a restart resumes from it and no event is imported twice or lost. An event is served
 * once its page has committed (its own state is computed on import). The rooms a page touched are recorded in that
 * same transaction and settled (pending states, redactions, then the current state that room access reads) at
 * most every `settleMs`, beside the polls and commits, by an importer of their own, so that commits never wait for
 * it (settling holds the room's lock). That importer reads a room's state events once and is then told of each
 * commit's events (Importer.learn), and the forward extremities are kept as a label: settling a room reads what
 * changed, not the whole room. A crash before settling settles them at the next start.
 *
 * Errors (the Synapse database restarted, Neo4j gone) never end it: the follower drops its connection and its
 * importer, waits (0.5 s, doubling up to 30 s) and starts again from the stored position.
 */
import type { Logger } from '../logger';
import { Importer } from '../importer/importer';
import { SynapseStream, type StreamLine, type StreamPage } from '../importer/synapse-follow';
import { EventStore } from '../store/event-store';
import { FollowCursorStore } from '../store/follow-cursor-store';
import type { Graph } from '../store/neo4j';
import { positionsBehind, START, type FollowPosition } from './follow-position';
import type { FollowMetrics } from './follow-metrics';

/** How long one round of settling goes on before the loop starts the next (see settleSome). */
const SETTLE_BUDGET_MS = 150;

export interface FollowerOptions {
  /** The Synapse database: a postgres:// URL. */
  readonly source: string;
  /** Rooms to follow; every room when empty. */
  readonly rooms?: readonly string[];
  readonly graph: Graph;
  readonly logger: Logger;
  readonly metrics?: FollowMetrics;
  /** Events per page, and so per transaction (default 500). */
  readonly pageSize?: number;
  /** Wait between polls once caught up (default 100 ms). */
  readonly pollMs?: number;
  /** Rooms that got events are settled at most this often (default 1000 ms): how stale room access may be. */
  readonly settleMs?: number;
  /** Events after which the importer is replaced by a fresh one, bounding its memory (default 20,000). */
  readonly recycleEvents?: number;
  readonly backoffMs?: { readonly initial: number; readonly max: number };
  readonly now?: () => number;
  /** Called after each commit with the lines it committed and when (benchmarks). */
  readonly onCommit?: (lines: readonly StreamLine[], committedAt: number) => void;
}

export interface FollowStatus {
  readonly position: FollowPosition | undefined;
  readonly behind: number | undefined;
  readonly caughtUp: boolean;
  readonly lastError: string | undefined;
}

export class Follower {
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private position: FollowPosition | undefined;
  private behind: number | undefined;
  private lastError: string | undefined;
  private firstCatchUp = true;
  private caughtUpOnce = false;
  private readonly started: number;
  private readonly now: () => number;
  private readonly pageSize: number;
  private readonly pollMs: number;
  private readonly settleMs: number;
  private readonly recycleEvents: number;
  /** Rooms with events committed since they were last settled, and since when. */
  private readonly toSettle = new Map<string, number>();
  /** Events committed since the settling importer last learnt of them (see settle). */
  private committed: string[] = [];
  /** Commits started, and the last one that touched each room (see settle). */
  private commits = 0;
  private readonly lastCommit = new Map<string, number>();
  private readonly backoff: { initial: number; max: number };
  private readonly sourceName: string;
  private readonly caught: { promise: Promise<void>; resolve: () => void };

  constructor(private readonly options: FollowerOptions) {
    this.now = options.now ?? Date.now;
    this.started = this.now();
    this.pageSize = options.pageSize ?? 500;
    this.pollMs = options.pollMs ?? 100;
    this.settleMs = options.settleMs ?? 1000;
    this.recycleEvents = options.recycleEvents ?? 20_000;
    this.backoff = { initial: options.backoffMs?.initial ?? 500, max: options.backoffMs?.max ?? 30_000 };
    this.sourceName = SynapseStream.sourceName(options.source);
    let resolve!: () => void;
    this.caught = { promise: new Promise<void>((done) => (resolve = done)), resolve };
  }

  /** Resolves when the first catch-up has finished. */
  get caughtUp(): Promise<void> {
    return this.caught.promise;
  }

  /** For /ready: why the service is not ready yet, or undefined once the first catch-up has finished. */
  readiness(): string | undefined {
    if (this.caughtUpOnce) return undefined;
    const behind = this.behind === undefined ? '' : ` (${this.behind} events behind)`;
    return `following ${this.sourceName}: the first catch-up is running${behind}`;
  }

  status(): FollowStatus {
    return { position: this.position, behind: this.behind, caughtUp: this.caughtUpOnce, lastError: this.lastError };
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    let delay = this.backoff.initial;
    while (!this.stopped) {
      try {
        await this.session(() => (delay = this.backoff.initial));
      } catch (error) {
        if (this.stopped) return;
        this.lastError = (error as Error).message;
        this.options.metrics?.errors.inc();
        this.options.logger.warn('follow: stopped on an error; retrying', { source: this.sourceName, error: this.lastError, retry_in_ms: delay });
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.backoff.max);
      }
    }
  }

  /** One connection's worth of following, until stopped or an error. `healthy` is called after each good poll. */
  private async session(healthy: () => void): Promise<void> {
    const { graph, logger, metrics } = this.options;
    const stream = await SynapseStream.open(this.options.source, this.options.rooms ?? [], {
      now: this.now,
      onSkip: (eventId, reason) => logger.debug('follow: event not given', { event_id: eventId, reason }),
    });
    try {
      const cursors = new FollowCursorStore(graph, this.sourceName);
      const store = new EventStore(graph);
      const stored = await cursors.load();
      let position = stored?.position ?? START;
      this.position = position;
      const newImporter = () =>
        new Importer(store, {
          // A page is one batch: one transaction with its position.
          batchSize: this.pageSize * 2 + 1,
          concurrency: 1,
          onProblem: (problem) => logger.warn('follow: event not imported', { at: problem.at, problem: problem.message, severity: problem.severity }),
          now: this.now,
        });
      let importer = newImporter();
      // Rooms are settled by an importer of their own, so settling never waits for the commits nor they for it. It
      // reads a room's state events the first time it settles it and learns of the commits' events after that.
      let settler = newImporter();
      let importedSince = 0;
      this.toSettle.clear();
      this.committed = [];
      const settle = (rooms: readonly string[]) => this.settle(settler, store, cursors, rooms);
      if (stored !== undefined && stored.unsettled.length > 0) await settle(stored.unsettled);
      if (this.firstCatchUp) logger.info('follow: catching up', { source: this.sourceName, forward: position.forward, backward: position.backward });
      const start = await stream.persistedUpTo();
      if (start.forward < position.forward || start.backward > position.backward) {
        // A database restored from a backup, or another one at the same address: what it writes below the stored
        // position would never be read. Said once per connection; the operator decides (delete the cursor node).
        logger.warn('follow: the stored position is ahead of what the database has persisted (restored, or another database?); positions up to it are not read again', {
          source: this.sourceName, stored: position, persisted: start,
        });
      }
      // One round of settling at a time runs beside the polls and commits.
      let settling: Promise<void> | undefined;
      try {
        for (;;) {
          if (this.stopped) {
            await settling;
            // Leaves no room unsettled when it can: a stop between pages is a clean end.
            if (this.toSettle.size > 0) await settle([...this.toSettle.keys()]);
            return;
          }
          const persisted = await stream.persistedUpTo();
          this.behind = positionsBehind(position, persisted);
          metrics?.behind.set(this.behind);
          const forward = await stream.forwardPage(position, persisted.forward, this.pageSize);
          if (forward.reached !== position.forward || forward.lines.length > 0) {
            importedSince += forward.lines.length;
            position = await this.apply(importer, cursors, forward, { forward: forward.reached, backward: position.backward }, 'forward');
          }
          const backward = await stream.backwardPage(position, persisted.backward, this.pageSize);
          if (backward.reached !== position.backward || backward.lines.length > 0) {
            importedSince += backward.lines.length;
            position = await this.apply(importer, cursors, backward, { forward: position.forward, backward: backward.reached }, 'backfill');
          }
          healthy();
          this.lastError = undefined;
          const behindStill = forward.full || backward.full;
          if (importedSince >= this.recycleEvents) {
            // The importer keeps a little of every event it saw (IDs, state references): a long follow would grow
            // without end. A fresh one reads what it needs from the graph again; events it left waiting for their
            // state are in the graph as such, and settling computes them.
            importer = newImporter();
            settler = newImporter();
            importedSince = 0;
          }
          if (!behindStill && this.firstCatchUp) {
            await settling;
            await settle([...this.toSettle.keys()]);
          } else if (settling === undefined) {
            settling = this.settleSome(settle).finally(() => (settling = undefined));
            // Its error is thrown where it is awaited (at the latest in this loop's finally); not unhandled meanwhile.
            settling.catch(() => undefined);
          }
          if (behindStill) continue;
          this.behind = positionsBehind(position, persisted);
          metrics?.behind.set(this.behind);
          metrics?.lagSeconds.set(0);
          if (this.firstCatchUp) {
            this.firstCatchUp = false;
            this.caughtUpOnce = true;
            metrics?.caughtUp.set(1);
            logger.info('follow: caught up', {
              source: this.sourceName, forward: position.forward, backward: position.backward, seconds: (this.now() - this.started) / 1000,
            });
            this.caught.resolve();
          }
          await this.sleep(this.pollMs);
        }
      } finally {
        await settling?.catch(() => undefined);
      }
    } finally {
      await stream.close().catch(() => undefined);
    }
  }

  /** Imports a page and commits it with the position it reaches; its rooms are settled later. */
  private async apply(
    importer: Importer,
    cursors: FollowCursorStore,
    page: StreamPage,
    next: FollowPosition,
    direction: 'forward' | 'backfill',
  ): Promise<FollowPosition> {
    const { metrics } = this.options;
    const oldest = page.lines.reduce<number | undefined>((min, l) => (l.receivedTs !== null && (min === undefined || l.receivedTs < min) ? l.receivedTs : min), undefined);
    if (oldest !== undefined) metrics?.lagSeconds.set(Math.max(0, (this.now() - oldest) / 1000));
    const timing = { started: this.now(), imported: 0, committed: 0 };
    const rooms = new Set<string>();
    for (const line of page.lines) {
      if (line.line === undefined) continue;
      rooms.add(line.roomId);
      await importer.importLines([line.line], `${this.sourceName}@${line.streamOrdering}`);
    }
    timing.imported = this.now();
    this.commits += 1;
    for (const room of rooms) this.lastCommit.set(room, this.commits);
    await importer.commit(cursors.save(next, [...rooms], this.now()));
    const committedAt = this.now();
    timing.committed = committedAt;
    this.position = next;
    metrics?.position.set({ direction: 'forward' }, next.forward);
    metrics?.position.set({ direction: 'backward' }, next.backward);
    for (const line of page.lines) {
      metrics?.events.inc({ direction: line.receivedTs === null ? 'de_outlier' : direction });
      if (line.receivedTs !== null && direction === 'forward') metrics?.visibleDelay.observe(Math.max(0, (committedAt - line.receivedTs) / 1000));
    }
    for (const line of page.lines) if (line.line !== undefined) this.committed.push(line.eventId);
    this.options.onCommit?.(page.lines, committedAt);
    for (const room of rooms) if (!this.toSettle.has(room)) this.toSettle.set(room, committedAt);
    this.options.logger.debug('follow: page', {
      direction, events: page.lines.length, rooms: rooms.size, import_ms: timing.imported - timing.started, commit_ms: committedAt - timing.imported,
    });
    return next;
  }

  /**
   * Settles the rooms that have waited `settleMs`, longest first, one at a time until SETTLE_BUDGET_MS has passed;
   * the other rooms follow in the next rounds.
   */
  private async settleSome(settle: (rooms: readonly string[]) => Promise<void>): Promise<void> {
    const started = this.now();
    const due = [...this.toSettle].filter(([, since]) => started - since >= this.settleMs).sort((a, b) => a[1] - b[1]);
    for (const [room] of due) {
      await settle([room]);
      if (this.now() - started >= SETTLE_BUDGET_MS) return;
    }
  }

  /**
   * Settles rooms with `importer` (pending states, redactions, current state). A room that got a commit meanwhile
   * stays to settle: what this settle read may predate it. (Commits count themselves before they start, so a commit
   * that lands while this runs is never missed.)
   */
  private async settle(importer: Importer, store: EventStore, cursors: FollowCursorStore, rooms: readonly string[]): Promise<void> {
    const started = this.now();
    const mark = this.commits;
    const learnt = this.committed;
    this.committed = [];
    await importer.learn(learnt);
    // Only rooms the graph holds: a room whose lines all wait for their m.room.create has nothing to settle yet.
    const stored = await store.roomVersions(rooms);
    const settling = rooms.filter((room) => stored.has(room));
    await importer.settle(settling);
    const done = rooms.filter((room) => (this.lastCommit.get(room) ?? 0) <= mark);
    await cursors.settled(done.filter((room) => stored.has(room)));
    for (const room of done) {
      this.toSettle.delete(room);
      this.lastCommit.delete(room);
    }
    this.options.logger.debug('follow: settled', { rooms: settling.length, settle_ms: this.now() - started });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        done();
      }
      this.wake = finish;
    });
  }
}
