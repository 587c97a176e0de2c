/**
 * An in-memory reference of the get_missing_events walk, written from the README's rules ("What the endpoint
 * does") and nothing else, so integration tests can compute the expected answer on random generated rooms:
 *
 *   1. Level 0 is the latest_events that are events of the room, not in earliest_events and not below min_depth.
 *   2. A plain breadth-first search back through prev_events gives every other reachable event its level: the
 *      fewest prev_events steps from level 0. An event of another room, an unknown one, one in earliest_events or
 *      one below min_depth gets no level, so it is neither returned nor walked past.
 *   3. Candidates are the events of level 1 and beyond (so latest_events are never returned), taken level by
 *      level; within a level the greater depth first, then the smaller event_id; the first `limit` are kept.
 *   4. Those are returned by depth, then origin_server_ts, then event_id.
 *
 * Unlike the Cypher walk, it labels the whole reachable DAG and only then cuts at `limit`: slower, but with
 * nothing to get wrong about when to stop.
 */
import type { BuiltEvent } from '../../src/generator/room-builder';

export interface ReferenceRequest {
  readonly room_id: string;
  readonly latest_events: readonly string[];
  readonly earliest_events?: readonly string[];
  /** The limit after clamping to the service's maximum. */
  readonly limit: number;
  readonly min_depth?: number;
}

/** The events the walk should return, in the order it should return them. */
export function referenceWalk(events: readonly BuiltEvent[], request: ReferenceRequest): BuiltEvent[] {
  const byId = new Map<string, BuiltEvent>();
  for (const event of events) if (roomIdOf(event) === request.room_id) byId.set(event.event_id, event);
  const earliest = new Set(request.earliest_events ?? []);
  const minDepth = request.min_depth ?? 0;
  const usable = (id: string): BuiltEvent | undefined => {
    const event = byId.get(id);
    return event !== undefined && !earliest.has(id) && event.depth >= minDepth ? event : undefined;
  };

  const level = new Map<string, number>();
  let frontier: BuiltEvent[] = [];
  for (const id of request.latest_events) {
    const event = usable(id);
    if (event !== undefined && !level.has(id)) {
      level.set(id, 0);
      frontier.push(event);
    }
  }
  for (let k = 1; frontier.length > 0; k++) {
    const next: BuiltEvent[] = [];
    for (const event of frontier) {
      for (const prevId of prevEventIds(event)) {
        const prev = usable(prevId);
        if (prev !== undefined && !level.has(prevId)) {
          level.set(prevId, k);
          next.push(prev);
        }
      }
    }
    frontier = next;
  }

  const candidates = [...byId.values()].filter((event) => (level.get(event.event_id) ?? 0) >= 1);
  candidates.sort(
    (a, b) => level.get(a.event_id)! - level.get(b.event_id)! || b.depth - a.depth || compare(a.event_id, b.event_id),
  );
  const chosen = candidates.slice(0, request.limit);
  chosen.sort((a, b) => a.depth - b.depth || timestampOf(a) - timestampOf(b) || compare(a.event_id, b.event_id));
  return chosen;
}

/** The IDs an event names in prev_events: strings, or `[event_id, hashes]` pairs in room versions 1 and 2. */
export function prevEventIds(event: BuiltEvent): string[] {
  const prev = event.pdu.prev_events;
  if (!Array.isArray(prev)) return [];
  return prev.map((entry: unknown) => (Array.isArray(entry) ? String(entry[0]) : String(entry)));
}

/** The room of an event: its room_id, or for a v12 create event (which has none) the ID derived from its own. */
export function roomIdOf(event: BuiltEvent): string {
  const roomId = event.pdu.room_id;
  return typeof roomId === 'string' ? roomId : `!${event.event_id.slice(1)}`;
}

function timestampOf(event: BuiltEvent): number {
  return event.pdu.origin_server_ts as number;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
