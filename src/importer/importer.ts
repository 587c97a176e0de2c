/**
 * Imports federation PDUs, one JSON object per line, into the room graph. A file may mix rooms of several room
 * versions and list events in any order: an event waits until its room's version is known (from an
 * m.room.create in the input or a room already stored). Bad lines are reported with their number and skipped;
 * every good line is stored. Writes are batched; up to `concurrency` batches are written at once while the next is
 * parsed and its states computed (the state writes make no assumption about which batch commits first).
 *
 * Each event's state before and after it, and whether it is rejected, is computed as soon as its prev_events and
 * auth_events allow (src/importer/room-states.ts); an event below a gap is stored as pending and computed when a
 * later import fills the gap. At the end, each room touched gets its current state: the resolution of its forward
 * extremities' states, and its redactions whose target and verdict are both known are decided
 * (src/importer/redactions.ts: recorded with the batch that stores them, applied whichever event came first).
 *
 * The events go to an ImportSink: the graph (an EventStore), or files for Neo4j's bulk importer
 * (src/importer/bulk-files.ts), whose rooms are settled on the graph once it holds them (`settle`).
 */
import { readPdu, roomIdOfPdu, stateEventOf, type StoredEvent } from '../core/pdu';
import { isObject } from '../core/json';
import { declaredRoomVersion, getRoomVersion, type RoomVersion } from '../core/room-versions';
import type { StateEvent } from '../core/state-event';
import { EventStore, type AlsoWrite, type ImportOutcome, type StateWrite } from '../store/event-store';
import { StateStore } from '../store/state-store';
import { RedactionStore, type RedactionRecord } from '../store/redaction-store';
import { RoomStates, type StateLoader } from './room-states';
import { redactionRecords, settleRedactions, withRedactionRecords } from './redactions';

/** Where imported events go, and what the importer reads of earlier imports. */
export interface ImportSink {
  /** The stored version of each room that is known. */
  roomVersions(roomIds: readonly string[]): Promise<Map<string, string>>;
  /** A stored room's state events, with their verdicts. */
  roomStateEvents(roomId: string): Promise<{ pdu: string; rejected_reason: string | null }[]>;
  saveRooms(rooms: readonly { room_id: string; room_version: string }[]): Promise<unknown>;
  /**
   * Stores a batch (see EventStore.importEvents) with the records of its redactions (src/importer/redactions.ts) and
   * `alsoWrite`, all at once: each event's outcome.
   */
  importEvents(
    events: readonly StoredEvent[],
    work: readonly StateWrite[],
    pending: readonly string[],
    redactions: readonly RedactionRecord[],
    alsoWrite?: AlsoWrite,
  ): Promise<Map<string, ImportOutcome>>;
  readonly loader: StateLoader;
}

/** The room graph as a sink. */
export function graphSink(store: EventStore, states: StateStore): ImportSink {
  return {
    roomVersions: (roomIds) => store.roomVersions(roomIds),
    roomStateEvents: (roomId) => states.roomStateEvents(roomId),
    saveRooms: (rooms) => store.saveRooms(rooms),
    // The batch's redactions are recorded in its own transaction: a stored redaction always has its record.
    importEvents: (events, work, pending, redactions, alsoWrite) => store.importEvents(events, work, pending, withRedactionRecords(redactions, alsoWrite)),
    loader: states.loader,
  };
}

export interface ImportProblem {
  /** Where: `file:line`. */
  readonly at: string;
  readonly message: string;
  /** A warning leaves the event stored (a content hash mismatch stores it redacted); an error skips the line. */
  readonly severity: 'error' | 'warning';
}

export interface ImportSummary {
  stored: number;
  unchanged: number;
  skipped: number;
  hashMismatches: number;
  /** Events that fail the authorization rules (stored, marked Rejected). */
  rejected: number;
  /** Forward extremities that fail them against the current state (stored, marked SoftFailed). */
  softFailed: number;
  /** Events whose state is not known yet: a prev or auth event is missing (marked StatePending). */
  statePending: number;
  rooms: number;
  seconds: number;
}

export interface ImporterOptions {
  readonly batchSize?: number;
  /** Batches written at once (default 2: one parses and waits while Neo4j writes the other). */
  readonly concurrency?: number;
  readonly onProblem?: (problem: ImportProblem) => void;
  /**
   * Called, instead of onProblem's warning, for each event stored redacted because its content hash does not match:
   * a source that redacted the event itself (a Synapse database) says so in a summary rather than a line an event.
   */
  readonly onHashMismatch?: (mismatch: { readonly at: string; readonly eventId: string; readonly roomId: string }) => void;
  readonly onProgress?: (summary: ImportSummary) => void;
  readonly now?: () => number;
}

interface Line {
  readonly at: string;
  readonly text: string;
  readonly pdu: Record<string, unknown>;
}

export class Importer {
  private readonly versions = new Map<string, RoomVersion>();
  private readonly lookedUp = new Set<string>();
  private readonly savedRooms = new Set<string>();
  private readonly pending = new Map<string, Line[]>();
  private batch = new Map<string, { event: StoredEvent; state: StateEvent; at: string }>();
  private readonly writes = new Set<Promise<void>>();
  private writeError: unknown;
  private readonly roomStates = new Map<string, RoomStates>();
  private readonly touchedRooms = new Set<string>();
  private readonly summary: ImportSummary = {
    stored: 0, unchanged: 0, skipped: 0, hashMismatches: 0, rejected: 0, softFailed: 0, statePending: 0, rooms: 0, seconds: 0,
  };
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly now: () => number;
  private readonly started: number;
  private readonly sink: ImportSink;
  /** The graph's states, to settle rooms with; undefined for a sink that is not the graph. */
  private readonly states: StateStore | undefined;
  /** The graph's open redactions, decided when a room is settled (src/importer/redactions.ts). */
  private readonly redactions: RedactionStore | undefined;

  constructor(
    target: EventStore | ImportSink,
    private readonly options: ImporterOptions = {},
  ) {
    if (target instanceof EventStore) {
      this.states = new StateStore(target.graph);
      this.redactions = new RedactionStore(target.graph);
      this.sink = graphSink(target, this.states);
    } else {
      this.sink = target;
    }
    this.batchSize = options.batchSize ?? 2000;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  /** Imports every line of one source; `name` labels the problems reported (`name:line`). */
  async importLines(lines: AsyncIterable<string> | Iterable<string>, name: string): Promise<void> {
    let number = 0;
    for await (const raw of lines) {
      number += 1;
      const text = raw.trim();
      if (text.length === 0) continue;
      await this.acceptLine(`${name}:${number}`, text);
    }
  }

  /**
   * Stores what is left, reports events whose room version never became known, and returns the totals. On the
   * graph it also settles each room touched (its pending states and current state); a sink that is not the graph
   * leaves that to `settle` once the graph holds what it wrote.
   */
  async finish(): Promise<ImportSummary> {
    for (const [roomId, lines] of this.pending) {
      for (const line of lines) {
        this.error(line.at, `room ${roomId} has no m.room.create in the input or the database, so its room version is unknown`);
      }
    }
    this.pending.clear();
    await this.flush();
    await Promise.all(this.writes);
    this.throwWriteError();
    if (this.states !== undefined) return this.settle(this.touchedRooms);
    for (const roomId of this.touchedRooms) this.summary.statePending += this.roomStates.get(roomId)!.pendingCount();
    return this.totals();
  }

  /**
   * Writes what is batched in one transaction together with `alsoWrite` (a follower's position: src/follow/), after
   * every earlier batch has committed, and waits for it: once it returns, the position and every event given
   * before it are in the graph, or none of this batch is. Rooms are not settled (call `settle`).
   */
  async commit(alsoWrite: AlsoWrite): Promise<void> {
    await Promise.all(this.writes);
    this.throwWriteError();
    await this.flush(alsoWrite);
    await Promise.all(this.writes);
    this.throwWriteError();
  }

  /**
   * Settles stored rooms: computes the events left pending that can be computed now, then each room's current
   * state (marking the extremities that fail against it soft-failed). Counts the events still pending.
   */
  async settle(roomIds: Iterable<string>): Promise<ImportSummary> {
    const states = this.graphStates();
    for (const roomId of roomIds) {
      await this.lookUp(roomId);
      const room = this.roomStates.get(roomId);
      if (room === undefined) throw new Error(`room ${roomId} is not stored`);
      this.touchedRooms.add(roomId);
      await this.settlePending(room, states);
      // Redactions whose target and verdict are both known now, whichever came first.
      if (this.redactions !== undefined) await settleRedactions(this.redactions, states.loader, room);
      await this.settleCurrentState(room, states);
      this.summary.statePending += room.pendingCount();
    }
    return this.totals();
  }

  /**
   * Learns the state events among events another importer stored since this one read their rooms (a follower's
   * settling importer, told of each commit's events), so that it need not read the whole room again. Events of
   * rooms it has not read yet are left out: reading the room gives them.
   */
  async learn(eventIds: readonly string[]): Promise<void> {
    for (const row of await this.graphStates().stateEvents(eventIds)) {
      const room = this.lookedUp.has(row.room_id) ? this.roomStates.get(row.room_id) : undefined;
      if (room !== undefined) rememberStored(room, [row]);
    }
  }

  private graphStates(): StateStore {
    if (this.states === undefined) throw new Error('only an import into the graph settles rooms');
    return this.states;
  }

  /** Computes the room's events left pending by earlier imports (or this one) that can be computed now. */
  private async settlePending(room: RoomStates, states: StateStore): Promise<void> {
    let after = { depth: -1, event_id: '' };
    room.forgetUnavailable();
    for (;;) {
      const page = await states.pendingPage(room.roomId, after, this.batchSize);
      if (page.length === 0) return;
      for (const row of page) {
        const event = storedStateEvent(row.pdu, room.version);
        if (event !== undefined) room.add(event);
      }
      await room.load(states.loader);
      const work = room.compute();
      await states.save(room.roomId, work.states, work.events);
      room.stored(work.states);
      this.summary.rejected += work.events.filter((row) => row.rejected_reason !== null).length;
      const last = page[page.length - 1]!;
      after = { depth: last.depth, event_id: last.event_id };
    }
  }

  private async settleCurrentState(room: RoomStates, states: StateStore): Promise<void> {
    const settled = await states.settleCurrentState(room.roomId, async (tx, extremities) => {
      const events = extremities.flatMap((row) => {
        const event = storedStateEvent(row.pdu, room.version);
        return event === undefined ? [] : [{ event, state_after: row.state_after }];
      });
      const { state, softFailed } = await room.resolve(StateStore.within(tx), events);
      return { state, states: room.unsavedChain(state), softFailed };
    });
    if (settled === undefined) return;
    room.stored(settled.states);
    this.summary.softFailed += settled.softFailed.length;
  }

  private async acceptLine(at: string, text: string): Promise<void> {
    let pdu: unknown;
    try {
      pdu = JSON.parse(text);
    } catch (error) {
      return this.error(at, `not JSON: ${(error as Error).message}`);
    }
    if (!isObject(pdu)) return this.error(at, 'not a JSON object');

    if (pdu.type === 'm.room.create' && pdu.state_key === '') {
      const declared = declaredRoomVersion(pdu.content);
      const version = getRoomVersion(declared);
      if (version === undefined) return this.error(at, `m.room.create declares unsupported room version "${declared}"`);
      // A v12 room ID is hashed from the line: a line with no canonical form is refused here like any other.
      const room = roomIdOfPdu(pdu, version);
      if (!room.ok) return this.error(at, room.reason);
      const roomId = room.roomId;
      await this.lookUp(roomId);
      const known = this.versions.get(roomId);
      if (known !== undefined && known.id !== version.id) {
        return this.error(at, `room ${roomId} is room version ${known.id}, but this m.room.create declares ${version.id}`);
      }
      this.versions.set(roomId, version);
      this.roomStatesOf(roomId, version);
      this.add(at, text, pdu, version);
      const waiting = this.pending.get(roomId) ?? [];
      this.pending.delete(roomId);
      for (const line of waiting) this.add(line.at, line.text, line.pdu, version);
    } else {
      if (typeof pdu.room_id !== 'string') return this.error(at, 'room_id is missing or not a string');
      await this.lookUp(pdu.room_id);
      const version = this.versions.get(pdu.room_id);
      if (version === undefined) {
        const waiting = this.pending.get(pdu.room_id) ?? [];
        waiting.push({ at, text, pdu });
        this.pending.set(pdu.room_id, waiting);
      } else {
        this.add(at, text, pdu, version);
      }
    }
    if (this.batch.size >= this.batchSize) await this.flush();
  }

  private async lookUp(roomId: string): Promise<void> {
    if (this.lookedUp.has(roomId)) return;
    this.lookedUp.add(roomId);
    const stored = (await this.sink.roomVersions([roomId])).get(roomId);
    const version = stored === undefined ? undefined : getRoomVersion(stored);
    if (version !== undefined) {
      this.versions.set(roomId, version);
      this.savedRooms.add(roomId);
      // The room's stored state events, which the authorization rules and state resolution of new events read.
      rememberStored(this.roomStatesOf(roomId, version), await this.sink.roomStateEvents(roomId));
    }
  }

  private roomStatesOf(roomId: string, version: RoomVersion): RoomStates {
    let room = this.roomStates.get(roomId);
    if (room === undefined || room.version.id !== version.id) this.roomStates.set(roomId, (room = new RoomStates(roomId, version)));
    return room;
  }

  private add(at: string, text: string, pdu: Record<string, unknown>, version: RoomVersion): void {
    const result = readPdu(text, pdu, version);
    if (!result.ok) return this.error(at, result.reason);
    const { event } = result;
    if (!event.content_hash_ok) {
      this.summary.hashMismatches += 1;
      if (this.options.onHashMismatch) this.options.onHashMismatch({ at, eventId: event.event_id, roomId: event.room_id });
      else this.report({ at, severity: 'warning', message: `content hash of ${event.event_id} does not match; stored redacted` });
    }
    const earlier = this.batch.get(event.event_id);
    if (earlier !== undefined) {
      if (earlier.event.pdu !== event.pdu) this.error(at, `${event.event_id} is also at ${earlier.at} with another PDU; kept that one`);
      else this.summary.unchanged += 1;
      return;
    }
    this.batch.set(event.event_id, { event, state: stateEventOf(event, pdu), at });
  }

  /**
   * Computes the states the batch makes computable (while earlier batches are being written), then starts its
   * write once fewer than `concurrency` are under way.
   */
  private async flush(alsoWrite?: AlsoWrite): Promise<void> {
    if (this.batch.size === 0 && alsoWrite === undefined) return;
    const batch = this.batch;
    this.batch = new Map();
    const rooms = new Set<RoomStates>();
    for (const { event, state } of batch.values()) {
      const room = this.roomStates.get(event.room_id)!;
      room.add(state);
      rooms.add(room);
    }
    const work: StateWrite[] = [];
    const pending: string[] = [];
    for (const room of rooms) {
      await room.load(this.sink.loader);
      const done = room.compute();
      work.push({ room_id: room.roomId, states: done.states, events: done.events });
      for (const id of done.pending) if (batch.has(id)) pending.push(id);
    }
    while (this.writes.size >= this.concurrency) await Promise.race(this.writes);
    this.throwWriteError();
    const write: Promise<void> = this.write(batch, work, pending, alsoWrite)
      .catch((error: unknown) => {
        this.writeError ??= error;
      })
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  private throwWriteError(): void {
    if (this.writeError !== undefined) throw this.writeError;
  }

  private async write(batch: Map<string, { event: StoredEvent; state: StateEvent; at: string }>, work: StateWrite[], pending: string[], alsoWrite?: AlsoWrite): Promise<void> {
    const newRooms = new Map<string, string>();
    for (const { event } of batch.values()) {
      this.touchedRooms.add(event.room_id);
      if (!this.savedRooms.has(event.room_id)) newRooms.set(event.room_id, this.versions.get(event.room_id)!.id);
    }
    if (newRooms.size > 0) {
      await this.sink.saveRooms([...newRooms].map(([room_id, room_version]) => ({ room_id, room_version })));
      for (const roomId of newRooms.keys()) this.savedRooms.add(roomId);
    }
    const redactions = redactionRecords(batch.values(), (roomId) => this.versions.get(roomId)!);
    const outcomes = await this.sink.importEvents([...batch.values()].map((entry) => entry.event), work, pending, redactions, alsoWrite);
    for (const { room_id, states } of work) this.roomStates.get(room_id)!.stored(states);
    // Verdicts on events stored now, or stored by an earlier batch while they waited for this one.
    for (const { events } of work) {
      for (const row of events) if (row.rejected_reason !== null && (!batch.has(row.event_id) || outcomes.get(row.event_id) === 'stored')) this.summary.rejected += 1;
    }
    for (const [eventId, { at }] of batch) this.count(eventId, at, outcomes.get(eventId));
    this.options.onProgress?.(this.totals());
  }

  private count(eventId: string, at: string, outcome: ImportOutcome | undefined): void {
    if (outcome === 'stored') this.summary.stored += 1;
    else if (outcome === 'unchanged') this.summary.unchanged += 1;
    else this.error(at, `${eventId} is already stored with another PDU; kept the stored one`);
  }

  private error(at: string, message: string): void {
    this.summary.skipped += 1;
    this.report({ at, severity: 'error', message });
  }

  private report(problem: ImportProblem): void {
    this.options.onProblem?.(problem);
  }

  private totals(): ImportSummary {
    return { ...this.summary, rooms: this.touchedRooms.size, seconds: (this.now() - this.started) / 1000 };
  }
}

/** Stored state events (as the graph holds them, with their verdicts) that the room's authorization reads. */
function rememberStored(room: RoomStates, rows: readonly { pdu: string; rejected_reason: string | null }[]): void {
  for (const row of rows) {
    const event = storedStateEvent(row.pdu, room.version);
    if (event !== undefined) room.remember(event, row.rejected_reason);
  }
}

/** A stored event (its PDU as stored, parsed once) as the authorization rules and state resolution read it. */
function storedStateEvent(text: string, version: RoomVersion): StateEvent | undefined {
  const pdu = JSON.parse(text) as Record<string, unknown>;
  const result = readPdu(text, pdu, version, { stored: true });
  return result.ok ? stateEventOf(result.event, pdu) : undefined;
}
