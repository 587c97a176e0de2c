/**
 * An import sink that writes the room graph as CSV files for Neo4j's bulk importer (`neo4j-admin database import
 * full`), for a first load into an empty database. The nodes and relationships are the ones the graph importer makes
 * (cypher/import-events.cypher, import-edges.cypher, rooms-save.cypher, states-save.cypher), property for property
 * and label for label. A list property CSV cannot hold (neo4j-admin reads an empty list, or a list of one empty
 * string, as no value; an element holding the array delimiter would be split) is left out of the files and kept, to
 * be set through Cypher once the database holds the states (`listFixes`).
 *
 * An event is written once its state is known. One whose state is still unknown when its batch is written (a prev
 * or auth event comes later in the input, or never) waits in memory; at the end, those still waiting are written as
 * StatePending, and every event that is only named in prev_events or auth_events becomes a Placeholder, as the
 * graph importer leaves them.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { eventKind } from '../core/event-kind';
import type { StoredEvent } from '../core/pdu';
import type { RoomState } from '../core/room-state';
import type { ImportOutcome, StateWrite } from '../store/event-store';
import type { RedactionRecord } from '../store/redaction-store';
import { stateProperties, type EventStateRow, type StateLists } from '../store/state-store';
import type { ImportSink } from './importer';

/** The files, in the order neo4j-admin takes them, with their headers. */
const FILES = {
  rooms: 'room_id:ID(Room),room_version,:LABEL',
  events:
    'event_id:ID(Event),room_id,type,state_key,sender,origin_server_ts:long,depth:long,pdu,content_hash_ok:boolean,' +
    'state_before,state_after,rejected_reason,redacts,redaction_pending:boolean,:LABEL',
  'prev-events': ':START_ID(Event),:END_ID(Event)',
  'auth-events': ':START_ID(Event),:END_ID(Event)',
  'in-room': ':START_ID(Event),:END_ID(Room)',
  states:
    'state_id:ID(State),room_id,hops:long,size:long,snapshot:boolean,types:string[],state_keys:string[],event_ids:string[],' +
    'create_event_id,server_acl_event_id,history_visibility,join_rule,joined_servers:string[],joined_members:long[],' +
    'invited_servers:string[],invited_members:long[],:LABEL',
  'delta-of': ':START_ID(State),:END_ID(State)',
} as const;

/** Between the elements of a list, and between labels, in the files (neo4j-admin's --array-delimiter). */
const ARRAY_DELIMITER = '\u001f';

type FileName = keyof typeof FILES;

/** What neo4j-admin is given: node and relationship files by label or type. */
export interface BulkFileSet {
  readonly nodes: readonly string[];
  readonly relationships: readonly { type: string; file: string }[];
  /** A value holds a line break, so neo4j-admin must read fields over several lines. */
  readonly multiline: boolean;
  /** Between the elements of a list: `U+001F` in neo4j-admin's terms. */
  readonly arrayDelimiter: string;
}

export class BulkFiles implements ImportSink {
  /** Each written event's PDU digest: an event seen again is unchanged, or a conflict. */
  private readonly written = new Map<string, string>();
  /** Events named in prev_events or auth_events and not written yet, with the room of the first event naming them. */
  private readonly named = new Map<string, string>();
  /** The event each redaction of the input names (`redacts`), until its line is written. */
  private readonly redacts = new Map<string, string>();
  /** Events written, waiting for their state. */
  private readonly waiting = new Map<string, StoredEvent>();
  /** States computed for events of a batch whose own write has not come yet (batches are written two at a time). */
  private readonly early = new Map<string, EventStateRow>();
  private readonly rooms = new Set<string>();
  private readonly stateIds = new Set<string>();
  /** List properties of states that the files leave out, to set once the database holds the states. */
  readonly listFixes: { state_id: string; lists: StateLists }[] = [];
  private handles: Map<FileName, FileHandle> | undefined;
  private queue: Promise<void> = Promise.resolve();
  private multiline = false;

  private constructor(readonly dir: string) {}

  /** The rooms written, to settle once the database holds them. */
  get roomIds(): string[] {
    return [...this.rooms];
  }

  /** Creates the files (with their headers) in `dir`, which must exist. */
  static async create(dir: string): Promise<BulkFiles> {
    const files = new BulkFiles(dir);
    files.handles = new Map();
    for (const [name, header] of Object.entries(FILES) as [FileName, string][]) {
      const handle = await open(join(dir, `${name}.csv`), 'wx');
      files.handles.set(name, handle);
      await handle.write(`${header}\n`);
    }
    return files;
  }

  // The database is empty: nothing is stored yet.
  readonly loader = { eventStates: async () => [], states: async () => [] };
  async roomVersions(): Promise<Map<string, string>> {
    return new Map();
  }
  async roomStateEvents(): Promise<{ pdu: string; rejected_reason: string | null }[]> {
    return [];
  }

  saveRooms(rooms: readonly { room_id: string; room_version: string }[]): Promise<void> {
    const lines = rooms.filter((room) => !this.rooms.has(room.room_id)).map((room) => {
      this.rooms.add(room.room_id);
      return this.line([room.room_id, room.room_version, 'Room']);
    });
    return this.append({ rooms: lines });
  }

  async importEvents(
    events: readonly StoredEvent[],
    work: readonly StateWrite[],
    _pending: readonly string[],
    redactions: readonly RedactionRecord[],
  ): Promise<Map<string, ImportOutcome>> {
    const outcomes = new Map<string, ImportOutcome>();
    // Recorded as redactions-record.cypher records them (the event named, open until the graph's settle decides it).
    for (const record of redactions) if (!this.written.has(record.event_id)) this.redacts.set(record.event_id, record.redacts);
    const lines: Record<FileName, string[]> = {
      rooms: [], events: [], 'prev-events': [], 'auth-events': [], 'in-room': [], states: [], 'delta-of': [],
    };
    const computed = new Map<string, EventStateRow>();
    for (const { events: rows } of work) for (const row of rows) computed.set(row.event_id, row);
    for (const event of events) {
      const digest = createHash('sha256').update(event.pdu).digest('base64');
      const before = this.written.get(event.event_id);
      if (before !== undefined) {
        outcomes.set(event.event_id, before === digest ? 'unchanged' : 'conflict');
        continue;
      }
      outcomes.set(event.event_id, 'stored');
      this.written.set(event.event_id, digest);
      this.named.delete(event.event_id);
      lines['in-room'].push(this.line([event.event_id, event.room_id]));
      for (const id of event.prev_events) lines['prev-events'].push(this.line([event.event_id, this.name(id, event.room_id)]));
      for (const id of event.auth_events) lines['auth-events'].push(this.line([event.event_id, this.name(id, event.room_id)]));
      const state = computed.get(event.event_id) ?? this.early.get(event.event_id);
      this.early.delete(event.event_id);
      if (state === undefined) this.waiting.set(event.event_id, event);
      else lines.events.push(this.eventLine(event, state));
    }
    // States of events of earlier batches (or of a batch whose write has not come yet) that waited for these.
    for (const row of computed.values()) {
      if (outcomes.get(row.event_id) === 'stored') continue;
      const event = this.waiting.get(row.event_id);
      if (event !== undefined) {
        this.waiting.delete(row.event_id);
        lines.events.push(this.eventLine(event, row));
      } else if (!this.written.has(row.event_id)) {
        this.early.set(row.event_id, row);
      }
    }
    for (const { room_id, states } of work) {
      for (const state of states) {
        if (this.stateIds.has(state.state_id)) continue;
        this.stateIds.add(state.state_id);
        lines.states.push(this.stateLine(room_id, state));
        if (state.parent !== undefined) lines['delta-of'].push(this.line([state.state_id, state.parent.state_id]));
      }
    }
    await this.append(lines);
    return outcomes;
  }

  /**
   * Writes the events still waiting for a state (StatePending) and the events only named (Placeholder), and closes
   * the files.
   */
  async close(): Promise<BulkFileSet> {
    const events: string[] = [];
    for (const event of this.waiting.values()) events.push(this.eventLine(event, undefined));
    this.waiting.clear();
    for (const [eventId, roomId] of this.named) events.push(this.placeholderLine(eventId, roomId));
    this.named.clear();
    await this.append({ events });
    await this.queue;
    for (const handle of this.handles?.values() ?? []) await handle.close();
    this.handles = undefined;
    const file = (name: FileName) => join(this.dir, `${name}.csv`);
    return {
      nodes: [file('rooms'), file('events'), file('states')],
      relationships: [
        { type: 'PREV_EVENT', file: file('prev-events') },
        { type: 'AUTH_EVENT', file: file('auth-events') },
        { type: 'IN_ROOM', file: file('in-room') },
        { type: 'DELTA_OF', file: file('delta-of') },
      ],
      multiline: this.multiline,
      arrayDelimiter: `U+${ARRAY_DELIMITER.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`,
    };
  }

  /** Notes an event named by another (a placeholder until it is written); returns its ID. */
  private name(eventId: string, roomId: string): string {
    if (!this.written.has(eventId) && !this.named.has(eventId)) this.named.set(eventId, roomId);
    return eventId;
  }

  /** A placeholder's line: its event ID and room, every other column of FILES.events empty, and its labels. */
  private placeholderLine(eventId: string, roomId: string): string {
    const empty = FILES.events.split(',').length - 3;
    return this.line([eventId, roomId, ...Array<null>(empty).fill(null), ['Event', 'Placeholder'].join(ARRAY_DELIMITER)]);
  }

  private eventLine(event: StoredEvent, state: EventStateRow | undefined): string {
    const labels = ['Event', eventKind(event.type, event.state_key)];
    if (state === undefined) labels.push('StatePending');
    else if (state.rejected_reason !== null) labels.push('Rejected');
    const redacts = this.redacts.get(event.event_id) ?? null;
    this.redacts.delete(event.event_id);
    return this.line([
      event.event_id, event.room_id, event.type, event.state_key, event.sender, event.origin_server_ts, event.depth,
      event.pdu, event.content_hash_ok, state?.state_before ?? null, state?.state_after ?? null,
      state?.rejected_reason ?? null, redacts, redacts === null ? null : true, labels.join(ARRAY_DELIMITER),
    ]);
  }

  private stateLine(roomId: string, state: RoomState): string {
    const row = stateProperties(roomId, state);
    const lists: StateLists = {};
    const list = (name: keyof StateLists): string | null => {
      const values: readonly (string | number)[] = row[name];
      const text = values.join(ARRAY_DELIMITER);
      // Empty, [""] and an element holding the delimiter do not survive the files: set through Cypher.
      if (text === '' || values.some((value) => String(value).includes(ARRAY_DELIMITER))) {
        (lists as Record<string, unknown>)[name] = values;
        return null;
      }
      return text;
    };
    const values = [
      row.state_id, row.room_id, row.hops, row.size, row.parent_id === null, list('types'), list('state_keys'), list('event_ids'),
      row.create_event_id, row.server_acl_event_id, row.history_visibility, row.join_rule, list('joined_servers'),
      list('joined_members'), list('invited_servers'), list('invited_members'), 'State',
    ];
    if (Object.keys(lists).length > 0) this.listFixes.push({ state_id: row.state_id, lists });
    return this.line(values);
  }

  /**
   * One CSV line (RFC 4180, as neo4j-admin reads it): a string quoted, its quotes doubled, so "" is an empty
   * string; null an empty field, which stores no property; numbers and booleans as they are.
   */
  private line(values: readonly (string | number | boolean | null)[]): string {
    return values
      .map((value) => {
        if (value === null) return '';
        if (typeof value !== 'string') return String(value);
        if (!this.multiline && /[\r\n]/.test(value)) this.multiline = true;
        return `"${value.replaceAll('"', '""')}"`;
      })
      .join(',');
  }

  /** Appends lines to the files, one append after the other (two batches may be written at once). */
  private append(lines: Partial<Record<FileName, string[]>>): Promise<void> {
    const handles = this.handles;
    if (handles === undefined) return Promise.reject(new Error('the bulk files are closed'));
    const write = async () => {
      for (const [name, rows] of Object.entries(lines) as [FileName, string[]][]) {
        if (rows.length > 0) await handles.get(name)!.write(`${rows.join('\n')}\n`);
      }
    };
    const next = this.queue.then(write);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
