/**
 * get_missing_events requests as a real caller sends them, for the walk benchmark. Synapse, on receiving an event
 * whose prev_events it lacks (_get_missing_events_for_pdu in synapse/handlers/federation_event.py), asks with
 * latest_events = [that event], earliest_events = its own forward extremities and the prev events it already has,
 * and min_depth = the lowest depth it knows of the room. So each shape here has:
 * - latest_events: one of the room's recent events;
 * - earliest_events: the room's other forward extremities, and a few events the caller already has: none, or up to
 *   three of the latest event's ancestors 1, 3, 10 or 30 prev_events steps back (a gap of that size);
 * - min_depth: 0, or for every fourth shape a depth 5 to 40 below the latest event (a caller that joined recently).
 * The shapes are a pure function of the room's newest events and a seed; the graph is read through a function
 * passed in (graphRoomTop gives the Neo4j one).
 */
import { SeededRandom } from '../generator/random';
import type { MissingEventsRequest } from '../core/missing-events-request';
import { loadCypher } from '../store/cypher-files';
import { type Graph, int, readTx, rows } from '../store/neo4j';

const QUERIES = loadCypher(['bench-room-top']);

/** One of a room's newest events, with what building a request needs of it. */
export interface TopEvent {
  readonly event_id: string;
  readonly depth: number;
  readonly prev_events: readonly string[];
  /** No accepted event names it in prev_events. */
  readonly extremity: boolean;
}

/** Reads a room's `count` newest accepted events, newest first. */
export type ReadRoomTop = (roomId: string, count: number) => Promise<readonly TopEvent[]>;

export interface ShapeOptions {
  readonly count: number;
  readonly limit: number;
  readonly seed: string;
  /** How many of the newest events latest_events is picked from (default 50). */
  readonly recent?: number;
}

/** How many prev_events steps back the caller's known events are; 0: it names none. */
const GAPS = [0, 1, 3, 10, 30] as const;
/** How many of the newest events to read: enough to reach 30 steps back from any of the recent ones. */
export const TOP_EVENTS = 400;

/** `options.count` requests built from a room's newest events (newest first); the same for the same seed. */
export function walkShapes(roomId: string, top: readonly TopEvent[], options: ShapeOptions): MissingEventsRequest[] {
  if (top.length === 0) return [];
  const random = new SeededRandom(`${options.seed}/walk-shapes`);
  const byId = new Map(top.map((event) => [event.event_id, event]));
  const extremities = top.filter((event) => event.extremity).map((event) => event.event_id);
  const recent = top.slice(0, Math.max(1, options.recent ?? 50));
  const shapes: MissingEventsRequest[] = [];
  for (let i = 0; i < options.count; i++) {
    const latest = random.pick(recent);
    const gap = GAPS[i % GAPS.length]!;
    const candidates = gap === 0 ? [] : ancestorsAt(latest, gap, byId);
    const known = pickSome(random, candidates, 3);
    const earliest = new Set([...extremities, ...known]);
    earliest.delete(latest.event_id);
    shapes.push({
      room_id: roomId,
      latest_events: [latest.event_id],
      earliest_events: [...earliest],
      min_depth: i % 4 === 3 ? Math.max(0, latest.depth - random.int(5, 40)) : 0,
      limit: options.limit,
    });
  }
  return shapes;
}

/** The events exactly `steps` prev_events steps back from `from` (fewest steps), within the events read. */
export function ancestorsAt(from: TopEvent, steps: number, byId: ReadonlyMap<string, TopEvent>): string[] {
  const seen = new Set([from.event_id]);
  let level = [from];
  for (let step = 0; step < steps && level.length > 0; step++) {
    const next: TopEvent[] = [];
    for (const event of level) {
      for (const id of event.prev_events) {
        const prev = byId.get(id);
        if (prev === undefined || seen.has(id)) continue;
        seen.add(id);
        next.push(prev);
      }
    }
    level = next;
  }
  return level.map((event) => event.event_id);
}

function pickSome(random: SeededRandom, items: readonly string[], most: number): string[] {
  const pool = [...items];
  const picked: string[] = [];
  while (pool.length > 0 && picked.length < most) picked.push(pool.splice(random.int(0, pool.length - 1), 1)[0]!);
  return picked;
}

/** Requests for a stored room: its newest events read through `read`, shaped by walkShapes. */
export async function requestShapes(read: ReadRoomTop, roomId: string, options: ShapeOptions): Promise<MissingEventsRequest[]> {
  return walkShapes(roomId, await read(roomId, TOP_EVENTS), options);
}

/** The Neo4j reader of a room's newest events (cypher/bench-room-top.cypher). */
export function graphRoomTop(graph: Graph): ReadRoomTop {
  return (roomId, count) =>
    readTx(graph, (tx) => rows<TopEvent & Record<string, unknown>>(tx, QUERIES['bench-room-top'], { room_id: roomId, count: int(count) }));
}
