/**
 * A Synapse PostgreSQL database read as a stream, for `maxtryx follow`: pages of PDU lines in stream order after a
 * position (src/follow/follow-position.ts), each line as `import --from-synapse` gives it (synapse-source.ts).
 *
 * What is read, and why it is safe to move on:
 * - `events` with stream_ordering in (forward, persisted], ascending: new events, outliers included. Synapse writes
 *   `stream_positions` ('events') only after the events below it have committed (its MultiWriterIdGenerator records
 *   the position up to which every writer has finished), so a row committed late with a lower ordering is never
 *   skipped. Without that row (an old schema), the greatest stream_ordering is taken.
 * - `ex_outlier_stream` in the same range: an outlier that Synapse de-outliered. Its PDU is the same, so it is
 *   given again (the importer counts it unchanged); it moves the position.
 * - `events` with stream_ordering in [persisted backfill, backward), descending: backfilled events.
 * PostgreSQL only: SQLite has no second reader while Synapse writes (see synapse-database.ts on its WAL).
 */
import { isPostgresUrl, openSynapseDatabase, SynapseSourceError, type SqlRow, type SynapseDatabase } from './synapse-database';
import { RoomReader, type SynapseSourceOptions } from './synapse-source';
import type { FollowPosition, PersistedUpTo } from '../follow/follow-position';

export interface StreamLine {
  /** The PDU line; undefined for a row Synapse would not serve (reported through onSkip). */
  readonly line: string | undefined;
  readonly eventId: string;
  readonly roomId: string;
  readonly streamOrdering: number;
  /** When Synapse received or created the event (`events.received_ts`, ms); null for a de-outliering. */
  readonly receivedTs: number | null;
}

export interface StreamPage {
  readonly lines: readonly StreamLine[];
  /** The position the page reaches: every position up to it (forward) or down to it (backward) was read. */
  readonly reached: number;
  /** Whether the page was cut at its size (more may follow before the persisted position). */
  readonly full: boolean;
}

const REQUIRED_TABLES = ['events', 'event_json', 'rooms', 'stream_positions'];

export class SynapseStream {
  private constructor(
    private readonly db: SynapseDatabase,
    private readonly tables: Set<string>,
    private readonly reader: RoomReader,
    private readonly rooms: readonly string[],
  ) {}

  /** The database's name for messages and the follower's position: the URL without user and password. */
  static sourceName(url: string): string {
    try {
      const parsed = new URL(url);
      return `postgresql://${parsed.host}${parsed.pathname}`;
    } catch {
      throw new SynapseSourceError('not a PostgreSQL URL');
    }
  }

  static async open(url: string, rooms: readonly string[], options: SynapseSourceOptions = {}): Promise<SynapseStream> {
    if (!isPostgresUrl(url)) {
      throw new SynapseSourceError(`${url}: follow reads PostgreSQL only (a postgres:// URL); import an SQLite database with import --from-synapse`);
    }
    const db = await openSynapseDatabase(url);
    try {
      const tables = await db.tables();
      const missing = REQUIRED_TABLES.filter((table) => !tables.has(table));
      if (missing.length > 0) throw new SynapseSourceError(`${db.name}: not a Synapse database (no table ${missing.join(', ')})`);
      return new SynapseStream(db, tables, new RoomReader(db, tables, options), [...new Set(rooms)]);
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  get name(): string {
    return this.db.name;
  }

  async persistedUpTo(): Promise<PersistedUpTo> {
    const positions = await this.db.query(`SELECT stream_name, min(stream_id) AS low, max(stream_id) AS high FROM stream_positions WHERE stream_name IN ('events', 'backfill') GROUP BY stream_name`);
    const events = positions.find((row) => row.stream_name === 'events');
    const backfill = positions.find((row) => row.stream_name === 'backfill');
    let forward: number;
    let backward: number;
    if (events !== undefined) forward = Number(events.low);
    else forward = Number((await this.db.query('SELECT coalesce(max(stream_ordering), 0) AS high FROM events'))[0]!.high);
    // The backfill stream counts down; Synapse stores its position negative (older schemas: its magnitude).
    if (backfill !== undefined) backward = -Math.min(Math.abs(Number(backfill.low)), Math.abs(Number(backfill.high)));
    else backward = Number((await this.db.query('SELECT least(coalesce(min(stream_ordering), 0), 0) AS low FROM events'))[0]!.low);
    return { forward, backward };
  }

  /** New events and de-outlierings after `position.forward`, up to `upTo`, at most `limit`. */
  async forwardPage(position: FollowPosition, upTo: number, limit: number): Promise<StreamPage> {
    if (upTo <= position.forward) return { lines: [], reached: position.forward, full: false };
    const roomFilter = this.roomFilter();
    const events = await this.db.query(
      `${this.reader.eventsSelect()} WHERE e.stream_ordering > ? AND e.stream_ordering <= ?${roomFilter.sql} ORDER BY e.stream_ordering LIMIT ?`,
      [position.forward, upTo, ...roomFilter.params, limit],
    );
    const deOutliered = this.tables.has('ex_outlier_stream')
      ? await this.db.query(
          `${this.reader.eventsSelect()} JOIN ex_outlier_stream AS x ON x.event_id = e.event_id ` +
            `WHERE x.event_stream_ordering > ? AND x.event_stream_ordering <= ?${roomFilter.sql} ORDER BY x.event_stream_ordering LIMIT ?`,
          [position.forward, upTo, ...roomFilter.params, limit],
        ).then((rows) => rows.map((row) => ({ ...row, received_ts: null })))
      : [];
    // Both read from one sequence: merge them and keep the first `limit` positions.
    const xPositions = deOutliered.length === 0 ? [] : await this.outlierPositions(deOutliered);
    const merged = [
      ...events.map((row) => ({ row, at: Number(row.stream_ordering) })),
      ...deOutliered.map((row, i) => ({ row, at: xPositions[i]! })),
    ].sort((a, b) => a.at - b.at);
    const full = events.length === limit || deOutliered.length === limit;
    const kept = full ? merged.slice(0, limit) : merged;
    const reached = full ? kept[kept.length - 1]!.at : upTo;
    return { lines: await this.linesOf(kept), reached, full };
  }

  /** Backfilled events before `position.backward`, down to `downTo`, at most `limit`. */
  async backwardPage(position: FollowPosition, downTo: number, limit: number): Promise<StreamPage> {
    if (downTo >= position.backward) return { lines: [], reached: position.backward, full: false };
    const roomFilter = this.roomFilter();
    const events = await this.db.query(
      `${this.reader.eventsSelect()} WHERE e.stream_ordering < ? AND e.stream_ordering >= ?${roomFilter.sql} ORDER BY e.stream_ordering DESC LIMIT ?`,
      [position.backward, downTo, ...roomFilter.params, limit],
    );
    const full = events.length === limit;
    const kept = events.map((row) => ({ row, at: Number(row.stream_ordering) }));
    return { lines: await this.linesOf(kept), reached: full ? kept[kept.length - 1]!.at : downTo, full };
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  private roomFilter(): { sql: string; params: string[] } {
    if (this.rooms.length === 0) return { sql: '', params: [] };
    return { sql: ` AND e.room_id IN (${this.rooms.map(() => '?').join(', ')})`, params: [...this.rooms] };
  }

  private async outlierPositions(rows: readonly SqlRow[]): Promise<number[]> {
    const ids = rows.map((row) => String(row.event_id));
    const found = await this.db.query(
      `SELECT event_id, event_stream_ordering FROM ex_outlier_stream WHERE event_id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    const byId = new Map(found.map((row) => [String(row.event_id), Number(row.event_stream_ordering)]));
    return ids.map((id) => byId.get(id)!);
  }

  private async linesOf(kept: readonly { row: SqlRow; at: number }[]): Promise<StreamLine[]> {
    const lines = await this.reader.linesOf(kept.map((entry) => entry.row));
    return kept.map(({ row, at }, i) => ({
      line: lines[i],
      eventId: String(row.event_id),
      roomId: String(row.room_id),
      streamOrdering: at,
      receivedTs: row.received_ts === null || row.received_ts === undefined ? null : Number(row.received_ts),
    }));
  }
}
