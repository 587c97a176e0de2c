/**
 * Rooms read straight from a Synapse database, as one federation PDU JSON line per event: the lines the Importer
 * takes from a file. Each event is given as Synapse sends it over federation (src/importer/synapse-pdu.ts says what
 * that means for redacted, rejected and out-of-band events). Events come room by room, in depth order, so the
 * importer rarely has to hold one back for its prev_events.
 *
 * Reads the tables Synapse's own event loader reads (events_worker.py `_fetch_event_rows`): `events`, `event_json`,
 * `rooms`, and `rejections`, `redactions` and MSC4293's `room_ban_redactions` where the schema has them.
 */
import { openSynapseDatabase, SynapseSourceError, type SqlRow, type SynapseDatabase } from './synapse-database';
import { synapseFederationPdu, type SynapseRedaction } from './synapse-pdu';

export { SynapseSourceError } from './synapse-database';

export interface SynapseSourceOptions {
  /** The clock that turns `unsigned.age_ts` into `age` (Synapse's `time_now`). */
  readonly now?: () => number;
  /** Called for each event that is not given, with the reason (Synapse would not load or serve it either). */
  readonly onSkip?: (eventId: string, reason: string) => void;
  /** Called for each event given pruned because Synapse holds a redaction of it (its content hash no longer matches). */
  readonly onRedacted?: (eventId: string) => void;
  /** Called once, before the first line, with the number of event rows of the rooms (for progress). */
  readonly onTotal?: (events: number) => void;
  readonly pageSize?: number;
}

const REQUIRED_TABLES = ['events', 'event_json', 'rooms'];

/**
 * The PDU lines of the given rooms (every room with events when `roomIds` is empty) of the Synapse database at
 * `source`: an SQLite file path, or a `postgres://` / `postgresql://` URL. Throws SynapseSourceError, before giving
 * any line, when the database cannot be opened, is not a Synapse database, or has no events in a room asked for.
 */
export async function* synapsePduLines(
  source: string,
  roomIds: readonly string[],
  options: SynapseSourceOptions = {},
): AsyncIterable<string> {
  const db = await openSynapseDatabase(source);
  try {
    const tables = await db.tables();
    const missing = REQUIRED_TABLES.filter((table) => !tables.has(table));
    if (missing.length > 0) throw new SynapseSourceError(`${db.name}: not a Synapse database (no table ${missing.join(', ')})`);
    const rooms = roomIds.length > 0 ? [...new Set(roomIds)] : await allRooms(db);
    for (const roomId of rooms) {
      if ((await db.query('SELECT 1 AS found FROM events WHERE room_id = ? LIMIT 1', [roomId])).length === 0) {
        throw new SynapseSourceError(`${db.name}: no events of room ${roomId}`);
      }
    }
    if (options.onTotal) options.onTotal(await eventCount(db, roomIds.length > 0 ? rooms : undefined));
    const reader = new RoomReader(db, tables, options);
    for (const roomId of rooms) yield* reader.lines(roomId);
  } finally {
    await db.close();
  }
}

/** The event rows of the rooms, or of the whole database; a few rows more than the lines given (out-of-band ones). */
async function eventCount(db: SynapseDatabase, rooms: readonly string[] | undefined): Promise<number> {
  if (rooms === undefined) return Number((await db.query('SELECT COUNT(*) AS n FROM events'))[0]?.n ?? 0);
  let total = 0;
  for (const roomId of rooms) total += Number((await db.query('SELECT COUNT(*) AS n FROM events WHERE room_id = ?', [roomId]))[0]?.n ?? 0);
  return total;
}

async function allRooms(db: SynapseDatabase): Promise<string[]> {
  return (await db.query('SELECT DISTINCT room_id FROM events ORDER BY room_id')).map((row) => String(row.room_id));
}

export class RoomReader {
  private readonly now: () => number;
  private readonly pageSize: number;

  constructor(
    private readonly db: SynapseDatabase,
    private readonly tables: Set<string>,
    private readonly options: SynapseSourceOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.pageSize = options.pageSize ?? 1000;
  }

  /**
   * The PDU lines of event rows read with `eventsSelect()` (any rooms, any order), each with its redactions as they
   * stand now; undefined for an event Synapse would not serve (reported to onSkip).
   */
  async linesOf(rows: readonly SqlRow[]): Promise<(string | undefined)[]> {
    const redactions = await this.redactionsOf(rows.map((row) => String(row.event_id)));
    const bans = new Map<string, (row: SqlRow) => SynapseRedaction[]>();
    for (const roomId of new Set(rows.map((row) => String(row.room_id)))) bans.set(roomId, await this.banRedactionsIn(roomId));
    return rows.map((row) => this.lineOf(row, [...(redactions.get(String(row.event_id)) ?? []), ...bans.get(String(row.room_id))!(row)]));
  }

  async *lines(roomId: string): AsyncIterable<string> {
    const redactions = await this.redactionsIn(roomId);
    const bans = await this.banRedactionsIn(roomId);
    let after: { topological: SqlRow[string]; stream: SqlRow[string] } | undefined;
    for (;;) {
      const page = await this.db.query(
        `${this.eventsSelect()} WHERE e.room_id = ?` +
          (after === undefined ? '' : ' AND (e.topological_ordering > ? OR (e.topological_ordering = ? AND e.stream_ordering > ?))') +
          ' ORDER BY e.topological_ordering, e.stream_ordering LIMIT ?',
        after === undefined ? [roomId, this.pageSize] : [roomId, after.topological, after.topological, after.stream, this.pageSize],
      );
      for (const row of page) {
        const line = this.lineOf(row, [...(redactions.get(String(row.event_id)) ?? []), ...bans(row)]);
        if (line !== undefined) yield line;
      }
      if (page.length < this.pageSize) return;
      const last = page[page.length - 1]!;
      after = { topological: last.topological_ordering!, stream: last.stream_ordering! };
    }
  }

  private lineOf(row: SqlRow, applying: readonly SynapseRedaction[]): string | undefined {
    const eventId = String(row.event_id);
    const result = synapseFederationPdu(
      {
        event_id: eventId,
        room_id: String(row.room_id),
        json: String(row.json),
        internal_metadata: String(row.internal_metadata),
        format_version: row.format_version === null ? null : Number(row.format_version),
        room_version: row.room_version === null ? null : String(row.room_version),
        rejected_reason: row.rejected_reason === null ? null : String(row.rejected_reason),
      },
      applying,
      this.now(),
    );
    if (result.ok) {
      if (result.redacted) this.options.onRedacted?.(eventId);
      return JSON.stringify(result.pdu);
    }
    this.options.onSkip?.(eventId, result.reason);
    return undefined;
  }

  /** The columns linesOf reads, from `events AS e` and the tables joined to it; append a WHERE clause. */
  eventsSelect(): string {
    const rejections = this.tables.has('rejections');
    return (
      'SELECT e.event_id, e.room_id, e.sender, e.topological_ordering, e.stream_ordering, e.received_ts, ej.json, ej.internal_metadata, ' +
      `ej.format_version, r.room_version, ${rejections ? 'rej.reason' : 'NULL'} AS rejected_reason ` +
      'FROM events AS e JOIN event_json AS ej USING (event_id) LEFT JOIN rooms AS r ON r.room_id = e.room_id' +
      (rejections ? ' LEFT JOIN rejections AS rej USING (event_id)' : '')
    );
  }

  /** The room's redactions, by the event they redact; unconfirmed ones with their redacting event as stored. */
  private async redactionsIn(roomId: string): Promise<Map<string, SynapseRedaction[]>> {
    const byEvent = new Map<string, SynapseRedaction[]>();
    if (!this.tables.has('redactions')) return byEvent;
    const rows = await this.db.query(
      'SELECT red.event_id, red.redacts, red.recheck FROM redactions AS red JOIN events AS e ON e.event_id = red.redacts WHERE e.room_id = ?',
      [roomId],
    );
    return this.byRedactedEvent(rows);
  }

  /** The redactions of the given events, by the event they redact (as redactionsIn). */
  private async redactionsOf(eventIds: readonly string[]): Promise<Map<string, SynapseRedaction[]>> {
    const byEvent = new Map<string, SynapseRedaction[]>();
    if (!this.tables.has('redactions') || eventIds.length === 0) return byEvent;
    const rows: SqlRow[] = [];
    for (let i = 0; i < eventIds.length; i += 200) {
      const batch = eventIds.slice(i, i + 200);
      rows.push(...(await this.db.query(`SELECT event_id, redacts, recheck FROM redactions WHERE redacts IN (${batch.map(() => '?').join(', ')})`, batch)));
    }
    return this.byRedactedEvent(rows);
  }

  private async byRedactedEvent(rows: readonly SqlRow[]): Promise<Map<string, SynapseRedaction[]>> {
    const byEvent = new Map<string, SynapseRedaction[]>();
    const unconfirmed = rows.filter((row) => Boolean(row.recheck)).map((row) => String(row.event_id));
    const redactingEvents = await this.redactingEvents(unconfirmed);
    for (const row of rows) {
      const eventId = String(row.event_id);
      const confirmed = !row.recheck;
      const redaction: SynapseRedaction = { event_id: eventId, confirmed, redaction: confirmed ? undefined : redactingEvents.get(eventId) };
      const redacts = String(row.redacts);
      byEvent.set(redacts, [...(byEvent.get(redacts) ?? []), redaction]);
    }
    return byEvent;
  }

  /** MSC4293: a ban that redacts the banned user's events, up to where the redaction ends. */
  private async banRedactionsIn(roomId: string): Promise<(row: SqlRow) => SynapseRedaction[]> {
    if (!this.tables.has('room_ban_redactions')) return () => [];
    const rows = await this.db.query(
      'SELECT user_id, redacting_event_id, redact_end_ordering FROM room_ban_redactions WHERE room_id = ?',
      [roomId],
    );
    if (rows.length === 0) return () => [];
    const redactingEvents = await this.redactingEvents(rows.map((row) => String(row.redacting_event_id)));
    return (event) =>
      rows
        .filter((row) => row.user_id === event.sender && (row.redact_end_ordering === null || Number(event.stream_ordering) < Number(row.redact_end_ordering)))
        .map((row) => ({ event_id: String(row.redacting_event_id), confirmed: false, redaction: redactingEvents.get(String(row.redacting_event_id)) }));
  }

  private async redactingEvents(eventIds: readonly string[]): Promise<Map<string, NonNullable<SynapseRedaction['redaction']>>> {
    const found = new Map<string, NonNullable<SynapseRedaction['redaction']>>();
    for (let i = 0; i < eventIds.length; i += 200) {
      const batch = eventIds.slice(i, i + 200);
      const rows = await this.db.query(
        `${this.eventsSelect()} WHERE e.event_id IN (${batch.map(() => '?').join(', ')})`,
        batch,
      );
      for (const row of rows) {
        const metadata = parseOrEmpty(String(row.internal_metadata));
        found.set(String(row.event_id), {
          room_id: String(row.room_id),
          sender: String(row.sender),
          rejected: row.rejected_reason !== null,
          recheck_redaction: metadata.recheck_redaction === true,
        });
      }
    }
    return found;
  }
}

function parseOrEmpty(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
