/**
 * The importer's view of one room's states: which events have a known state, which wait for a prev event or an
 * auth event that has no state yet, and the states computed so far. Events arrive in any order; an event's state
 * is computed as soon as all of its prev_events have a state and all of its auth_events a verdict (Kahn's
 * algorithm over the DAG), so the result is the same whatever order the events come in. What is not in memory
 * (events and states of earlier imports) is asked of a loader, which reads the graph.
 */
import { computeEventState, resolveStates, softFailure } from '../core/event-state';
import { type RoomState } from '../core/room-state';
import type { RoomVersion } from '../core/room-versions';
import type { StateEvent } from '../core/state-event';
import type { EventStateRow, LoadedState, StoredEventState } from '../store/state-store';

/** Reads what earlier imports stored. */
export interface StateLoader {
  eventStates(eventIds: readonly string[]): Promise<StoredEventState[]>;
  states(stateIds: readonly string[]): Promise<LoadedState[]>;
}

/** What one round of computation produced, for the store to write. */
export interface StateWork {
  /** New states, each after the state it is a delta on. */
  readonly states: RoomState[];
  readonly events: EventStateRow[];
}

export class RoomStates {
  /** State events by ID (what the authorization rules and state resolution look up). */
  private readonly stateEvents = new Map<string, StateEvent>();
  /**
   * Events known not to be state events: one named in auth_events gets the event rejected (auth rules: an auth
   * event whose type and state_key the selection does not name), where it used to wait for a state that never comes.
   * IDs only (the strings `decided` holds too): every message of an import passes through here.
   */
  private readonly nonStateEvents = new Set<string>();
  private readonly rejected = new Set<string>();
  /** Events whose verdict is known (their state is computed, here or by an earlier import). */
  private readonly decided = new Set<string>();
  /** The state after each event whose state is held in memory. */
  private readonly after = new Map<string, RoomState>();
  private readonly states = new Map<string, RoomState>();
  /**
   * States the graph is known to hold: read from it, or written by a batch whose write committed (`stored`). A
   * state computed here stays out of it until then, so that a later batch written first (two batches are written
   * at once) carries the states it rests on too, and the graph never holds a delta whose parent is not filled in.
   */
  private readonly saved = new Set<string>();
  /** States already in `work` (not stored yet), so that one batch carries each once. */
  private readonly inWork = new Set<string>();
  /** Events whose state is not known yet, and for each missing dependency the events waiting for it. */
  private readonly pending = new Map<string, StateEvent>();
  private readonly waiters = new Map<string, Set<string>>();
  /** Dependencies whose state (not only verdict) is needed: somebody's prev event. */
  private readonly wantState = new Set<string>();
  /** IDs the loader was asked about and does not have with a state. */
  private readonly unavailable = new Set<string>();
  private ready: string[] = [];
  private work: { states: RoomState[]; events: EventStateRow[] } = { states: [], events: [] };

  constructor(
    readonly roomId: string,
    readonly version: RoomVersion,
  ) {}

  readonly lookup = (eventId: string): StateEvent | undefined => this.stateEvents.get(eventId);
  readonly isRejected = (eventId: string): boolean => this.rejected.has(eventId);

  /** A stored state event of an earlier import, with its verdict; its state is loaded only when needed. */
  remember(event: StateEvent, rejectedReason: string | null): void {
    if (event.state_key !== null) this.stateEvents.set(event.event_id, event);
    if (rejectedReason !== null) this.rejected.add(event.event_id);
  }

  /** An event whose state is to be computed (new, or stored earlier without a state). */
  add(event: StateEvent): void {
    if (this.decided.has(event.event_id) || this.pending.has(event.event_id)) return;
    if (event.state_key !== null) this.stateEvents.set(event.event_id, event);
    else this.nonStateEvents.add(event.event_id);
    this.pending.set(event.event_id, event);
    this.unavailable.delete(event.event_id);
    let missing = 0;
    for (const id of event.prev_events) missing += this.need(id, event.event_id, true);
    for (const id of event.auth_events) missing += this.need(id, event.event_id, false);
    if (missing === 0) this.ready.push(event.event_id);
  }

  /** Asks the loader for the dependencies no event in memory answers, once each. */
  async load(loader: StateLoader): Promise<void> {
    const wanted = [...this.waiters.keys()].filter((id) => !this.pending.has(id) && !this.unavailable.has(id));
    if (wanted.length === 0) return;
    const found = new Map((await loader.eventStates(wanted)).map((row) => [row.event_id, row]));
    const stateIds = new Set<string>();
    for (const id of wanted) {
      const row = found.get(id);
      if (row?.room_id === this.roomId && row.state_after !== null && this.wantState.has(id)) stateIds.add(row.state_after);
    }
    await this.adopt(loader, [...stateIds]);
    for (const id of wanted) {
      const row = found.get(id);
      if (row === undefined || row.room_id !== this.roomId || row.state_after === null) {
        this.unavailable.add(id);
        continue;
      }
      if (row.rejected_reason !== null) this.rejected.add(id);
      if (row.state_key === null) this.nonStateEvents.add(id);
      this.settle(id, this.wantState.has(id) ? this.states.get(row.state_after) : undefined);
    }
  }

  /** Computes every event that can be computed now; returns what to write and the events still pending. */
  compute(): StateWork & { pending: string[] } {
    while (this.ready.length > 0) {
      const id = this.ready.pop()!;
      const event = this.pending.get(id);
      if (event === undefined || !this.satisfied(event)) continue;
      const prevStates = event.prev_events.map((prev) => this.after.get(prev)!);
      const { verdict, before, after } = computeEventState({
        event, version: this.version, prevStates, lookup: this.authLookup, isRejected: this.isRejected,
      });
      this.keep(before);
      this.keep(after);
      if (verdict.kind === 'rejected') this.rejected.add(id);
      this.work.events.push({
        event_id: id, state_before: before.state_id, state_after: after.state_id,
        rejected_reason: verdict.kind === 'rejected' ? verdict.reason : null,
      });
      this.pending.delete(id);
      this.settle(id, after);
    }
    return { ...this.takeWork(), pending: [...this.pending.keys()] };
  }

  /**
   * The resolution of the forward extremities' states, and the extremities that fail the authorization rules
   * against it: soft-failed (spec: "Checks performed on receipt of a PDU", step 6), unless all of them fail.
   * Importing has no "now" at which each event arrived, so every extremity is checked against the state the import
   * ends with, and the result does not depend on the order of the lines. The caller marks the soft-failed ones and
   * asks again with the extremities that remain.
   */
  async resolve(loader: StateLoader, extremities: readonly { event: StateEvent; state_after: string }[]): Promise<{
    state: RoomState;
    softFailed: { event_id: string; reason: string }[];
  }> {
    await this.adopt(loader, extremities.map((row) => row.state_after));
    const state = resolveStates(this.version, extremities.map((row) => this.states.get(row.state_after)!), this.lookup);
    const softFailed = extremities.flatMap(({ event }) => {
      const reason = softFailure(event, state, this.version, this.lookup);
      return reason === undefined ? [] : [{ event_id: event.event_id, reason }];
    });
    if (softFailed.length > 0 && softFailed.length < extremities.length) return { state, softFailed };
    this.states.set(state.state_id, state);
    return { state, softFailed: [] };
  }

  /**
   * The states to write so that `state` is stored: it and the states it rests on that are not stored yet (parents
   * first). Nothing is marked as stored here, so a transaction that is retried asks again and gets the same list;
   * the caller calls `stored` once its transaction committed.
   */
  unsavedChain(state: RoomState): RoomState[] {
    const fresh: RoomState[] = [];
    for (let at: RoomState | undefined = state; at !== undefined && !this.saved.has(at.state_id); at = at.parent) fresh.push(at);
    return fresh.reverse();
  }

  stored(states: readonly RoomState[]): void {
    for (const state of states) this.saved.add(state.state_id);
  }

  /** Lets `load` ask again about what it was told is missing (another import may have stored it since). */
  forgetUnavailable(): void {
    this.unavailable.clear();
  }

  pendingCount(): number {
    return this.pending.size;
  }

  /** What `compute` produced since the last call; the caller calls `stored` with its states once they are written. */
  takeWork(): StateWork {
    const done = this.work;
    this.work = { states: [], events: [] };
    this.inWork.clear();
    return done;
  }

  /** 1 when `id` is not settled yet, after noting that `waiter` waits for it. */
  private need(id: string, waiter: string, state: boolean): number {
    if (state ? this.after.has(id) : this.decided.has(id)) return 0;
    if (state) this.wantState.add(id);
    let waiting = this.waiters.get(id);
    if (waiting === undefined) this.waiters.set(id, (waiting = new Set()));
    waiting.add(waiter);
    return 1;
  }

  /**
   * Whether every prev event has a state and every auth event a verdict and its content, for the auth rules (or is
   * known not to be a state event, which the rules reject).
   */
  private satisfied(event: StateEvent): boolean {
    return (
      event.prev_events.every((id) => this.after.has(id)) &&
      event.auth_events.every((id) => this.decided.has(id) && (this.stateEvents.has(id) || this.nonStateEvents.has(id)))
    );
  }

  /**
   * The lookup the authorization rules read an event's auth_events through: the state events, and for an event
   * that is not one, what the rules need to reject it (its ID and room, and no state_key; its type is not kept).
   */
  private readonly authLookup = (eventId: string): StateEvent | undefined => {
    const found = this.stateEvents.get(eventId);
    if (found !== undefined || !this.nonStateEvents.has(eventId)) return found;
    return {
      event_id: eventId, room_id: this.roomId, type: '', state_key: null, sender: '', content: {}, depth: 0, origin_server_ts: 0,
      prev_events: [], auth_events: [],
    };
  };

  private settle(eventId: string, after: RoomState | undefined): void {
    this.decided.add(eventId);
    if (after !== undefined) this.after.set(eventId, after);
    this.wantState.delete(eventId);
    const waiting = this.waiters.get(eventId);
    if (waiting === undefined) return;
    this.waiters.delete(eventId);
    for (const id of waiting) {
      const event = this.pending.get(id);
      if (event !== undefined && this.satisfied(event)) this.ready.push(id);
    }
  }

  /**
   * Records a state computed here for saving, with the states it rests on that the graph is not known to hold
   * (parents first), even those an earlier batch still being written carries.
   */
  private keep(state: RoomState): void {
    const fresh: RoomState[] = [];
    // A state already in this batch's work came with the states it rests on.
    for (let at: RoomState | undefined = state; at !== undefined && !this.saved.has(at.state_id) && !this.inWork.has(at.state_id); at = at.parent) {
      fresh.push(at);
    }
    for (let i = fresh.length - 1; i >= 0; i--) {
      const next = fresh[i]!;
      this.inWork.add(next.state_id);
      this.states.set(next.state_id, next);
      this.work.states.push(next);
    }
  }

  /** Loads states from the graph (with the states they rest on) that memory does not hold. */
  private async adopt(loader: StateLoader, stateIds: readonly string[]): Promise<void> {
    const missing = stateIds.filter((id) => !this.states.has(id));
    if (missing.length === 0) return;
    const loaded = new Map((await loader.states(missing)).map((state) => [state.state_id, state]));
    const build = (id: string): RoomState | undefined => {
      const known = this.states.get(id);
      if (known !== undefined) return known;
      const row = loaded.get(id);
      if (row === undefined) return undefined;
      const parent = row.parent_id === null ? undefined : build(row.parent_id);
      if (row.parent_id !== null && parent === undefined) return undefined;
      const state: RoomState = { state_id: id, parent, hops: row.hops, entries: row.entries, size: row.size, summary: row.summary };
      this.states.set(id, state);
      this.saved.add(id);
      return state;
    };
    for (const id of missing) build(id);
  }
}
