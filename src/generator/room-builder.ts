/**
 * Builds a real room, event by event: content hashes, ed25519 signatures by the sender's server, event IDs in
 * the room version's format, correct depths and auth_events. The generator drives it at random; tests drive it
 * to get exactly the DAG they need.
 */
import { createHash } from 'node:crypto';
import { computeEventId, computeReferenceHash, hashAndSignEvent } from '../core/event-hashes';
import { encodeBase64 } from '../core/base64';
import { serverNameOf } from '../core/identifiers';
import { getRoomVersion, type RoomVersion } from '../core/room-versions';
import { signingKeyFromSeed, type SigningKey } from '../core/signing';
import { SeededRandom } from './random';

export type Pdu = Record<string, unknown>;

export interface BuiltEvent {
  readonly event_id: string;
  readonly depth: number;
  readonly type: string;
  readonly state_key?: string;
  readonly pdu: Pdu;
  /** v1/v2 reference to this event in prev_events: `[event_id, {sha256}]`. */
  readonly reference: unknown;
}

/** The state event at (type, state_key), or undefined when the state has none. */
export type StateLookup = (type: string, stateKey: string) => BuiltEvent | undefined;

export interface EventSpec {
  readonly type: string;
  readonly sender: string;
  readonly content: Record<string, unknown>;
  readonly state_key?: string;
  /** The events this one follows; the room's forward extremities when absent. */
  readonly prev?: readonly BuiltEvent[];
  /**
   * The state its auth events are selected from; the builder's current state when absent. An event on one branch
   * of a fork must cite its own branch's state, never an event that only another branch holds.
   */
  readonly authState?: StateLookup;
  /**
   * An event no later event names and whose state the room never takes up: a rejected or soft-failed event, or a
   * branch that stops (below a missing event). The builder keeps it out of its forward extremities and its state.
   */
  readonly detached?: boolean;
}

/** A server's signing key, derived from the room's seed so the same seed gives the same keys. */
export function serverKey(seed: string, serverName: string): SigningKey {
  return signingKeyFromSeed('gen1', createHash('sha256').update(`${seed}/key/${serverName}`).digest());
}

export class RoomBuilder {
  readonly version: RoomVersion;
  readonly events: BuiltEvent[] = [];
  private readonly state = new Map<string, BuiltEvent>();
  private extremities: BuiltEvent[] = [];
  private readonly keys = new Map<string, SigningKey>();
  private readonly random: SeededRandom;
  private ts: number;
  roomId = '';

  constructor(
    roomVersion: string,
    private readonly seed: string,
    startTs = 1_700_000_000_000,
  ) {
    const version = getRoomVersion(roomVersion);
    if (version === undefined) throw new Error(`unsupported room version ${roomVersion}`);
    this.version = version;
    this.random = new SeededRandom(`${seed}/ids`);
    this.ts = startTs;
  }

  keyOf(serverName: string): SigningKey {
    let key = this.keys.get(serverName);
    if (key === undefined) {
      key = serverKey(this.seed, serverName);
      this.keys.set(serverName, key);
    }
    return key;
  }

  servers(): Map<string, SigningKey> {
    return new Map(this.keys);
  }

  forwardExtremities(): readonly BuiltEvent[] {
    return this.extremities;
  }

  currentState(type: string, stateKey: string): BuiltEvent | undefined {
    return this.state.get(`${type}\u0000${stateKey}`);
  }

  /** The current state as it is now, unchanged by events added later: the state a fork's branches start from. */
  stateSnapshot(): StateLookup {
    const snapshot = new Map(this.state);
    return (type, stateKey) => snapshot.get(`${type}\u0000${stateKey}`);
  }

  /**
   * Makes these events the current state at their keys. After a fork, the order the branches were built in does
   * not say which branch's events are current; state resolution does, and the caller tells the builder its result.
   */
  adoptState(events: readonly BuiltEvent[]): void {
    for (const event of events) {
      if (event.state_key === undefined) throw new Error(`${event.event_id} is not a state event`);
      this.state.set(`${event.type}\u0000${event.state_key}`, event);
    }
  }

  /**
   * A function that undoes every event added from now on (and puts the clock and the ID generator back), for a
   * caller that finds out only after building some events that they do not fit.
   */
  checkpoint(): () => void {
    const events = this.events.length;
    const state = new Map(this.state);
    const extremities = this.extremities;
    const { ts, roomId } = this;
    const random = this.random.checkpoint();
    return () => {
      this.events.length = events;
      this.state.clear();
      for (const [key, event] of state) this.state.set(key, event);
      this.extremities = extremities;
      Object.assign(this, { ts, roomId });
      random();
    };
  }

  /** The m.room.create event; the room ID comes from it (v12) or is made up on the creator's server. */
  create(creator: string, extraContent: Record<string, unknown> = {}): BuiltEvent {
    const server = serverNameOf(creator)!;
    if (!this.version.roomIdIsCreateEventId) this.roomId = `!${this.random.opaque(18)}:${server}`;
    const content: Record<string, unknown> = { room_version: this.version.id, ...extraContent };
    if (!this.version.redactionV11) content.creator = creator;
    // v12 (MSC4291): the room ID is the create event's reference hash, which covers neither signatures nor anything
    // else the seed picks, so only origin_server_ts tells two rooms of the same creator apart: spread it over a year,
    // or different seeds would give the same room ID about once in 2,000 pairs.
    const ts = this.version.roomIdIsCreateEventId ? this.ts + this.random.int(0, 365 * 86_400_000) : undefined;
    return this.add({ type: 'm.room.create', state_key: '', sender: creator, content, prev: [] }, ts);
  }

  add(spec: EventSpec, ts?: number): BuiltEvent {
    const prev = spec.prev ?? this.extremities;
    const server = serverNameOf(spec.sender)!;
    this.ts = ts ?? this.ts + 1 + this.random.int(0, 2000);
    const depth = prev.reduce((max, event) => Math.max(max, event.depth), 0) + 1;
    const pdu: Pdu = {
      ...(this.version.eventIdFormat === 'carried' ? { event_id: `$${this.random.opaque(18)}:${server}` } : {}),
      auth_events: this.authEvents(spec).map((event) => this.referenceTo(event)),
      content: spec.content,
      depth,
      ...(this.version.redactionV11 ? {} : { origin: server }),
      origin_server_ts: this.ts,
      prev_events: prev.map((event) => this.referenceTo(event)),
      ...(this.roomId && !(this.version.roomIdIsCreateEventId && spec.type === 'm.room.create') ? { room_id: this.roomId } : {}),
      sender: spec.sender,
      ...(spec.state_key !== undefined ? { state_key: spec.state_key } : {}),
      type: spec.type,
    };
    const signed = hashAndSignEvent(pdu, this.version, server, this.keyOf(server));
    const eventId = computeEventId(signed, this.version)!;
    if (spec.type === 'm.room.create' && this.version.roomIdIsCreateEventId) this.roomId = `!${eventId.slice(1)}`;
    const built: BuiltEvent = {
      event_id: eventId,
      depth,
      type: spec.type,
      ...(spec.state_key !== undefined ? { state_key: spec.state_key } : {}),
      pdu: signed,
      reference: [eventId, { sha256: encodeBase64(computeReferenceHash(signed, this.version)) }],
    };
    this.events.push(built);
    if (spec.detached) return built;
    if (spec.state_key !== undefined) this.state.set(`${spec.type}\u0000${spec.state_key}`, built);
    this.extremities = [...this.extremities.filter((event) => !prev.includes(event)), built];
    return built;
  }

  /**
   * The auth events the spec's auth rules select from the event's auth state: create, power levels, the sender's
   * membership, and more for joins.
   */
  private authEvents(spec: EventSpec): BuiltEvent[] {
    if (spec.type === 'm.room.create') return [];
    const wanted: [string, string][] = [['m.room.power_levels', ''], ['m.room.member', spec.sender]];
    // v12 (MSC4291): the create event is implied by the room ID and is not listed.
    if (!this.version.roomIdIsCreateEventId) wanted.unshift(['m.room.create', '']);
    if (spec.type === 'm.room.member' && spec.state_key !== undefined) {
      if (spec.state_key !== spec.sender) wanted.push(['m.room.member', spec.state_key]);
      if (spec.content.membership === 'join' || spec.content.membership === 'invite') wanted.push(['m.room.join_rules', '']);
    }
    const state: StateLookup = spec.authState ?? ((type, key) => this.currentState(type, key));
    const found = wanted.map(([type, key]) => state(type, key)).filter((e): e is BuiltEvent => e !== undefined);
    return [...new Set(found)];
  }

  private referenceTo(event: BuiltEvent): unknown {
    return this.version.referencesAreHashPairs ? event.reference : event.event_id;
  }
}
