/**
 * The room graph's events: batched import writes, the current state they imply, and the walk. Queries come from
 * cypher/*.cypher; every value crossing into Neo4j is converted here.
 */
import { chooseCurrentState, type CurrentStateEntry, type StateCandidate } from '../core/current-state';
import type { MissingEventsRequest } from '../core/missing-events-request';
import type { StoredEvent } from '../core/pdu';
import { loadCypher } from './cypher-files';
import type { ManagedTransaction } from 'neo4j-driver';
import { type Graph, int, readTx, rows, writeTx } from './neo4j';

const QUERIES = loadCypher([
  'import-events',
  'import-edges',
  'rooms-save',
  'room-versions-load',
  'current-state-lock',
  'current-state-load',
  'current-state-save',
  'walk',
  'room-count',
  'room-latest-event',
]);

export type ImportOutcome = 'stored' | 'unchanged' | 'conflict';

/** The walk takes the validated request as it is. */
export type WalkRequest = MissingEventsRequest;

export class EventStore {
  constructor(private readonly graph: Graph) {}

  /** The stored room version of each room that is known. */
  async roomVersions(roomIds: readonly string[]): Promise<Map<string, string>> {
    if (roomIds.length === 0) return new Map();
    const found = await readTx(this.graph, (tx) =>
      rows<{ room_id: string; room_version: string }>(tx, QUERIES['room-versions-load'], { room_ids: roomIds }),
    );
    return new Map(found.map((row) => [row.room_id, row.room_version]));
  }

  /** Creates rooms not stored yet; returns each room's version as stored (an existing room keeps its own). */
  async saveRooms(rooms: readonly { room_id: string; room_version: string }[]): Promise<Map<string, string>> {
    const saved = await writeTx(this.graph, (tx) =>
      rows<{ room_id: string; room_version: string }>(tx, QUERIES['rooms-save'], { rooms }),
    );
    return new Map(saved.map((row) => [row.room_id, row.room_version]));
  }

  /**
   * Stores a batch of events (one per event ID) and brings the current state of the (room, type, state_key)
   * pairs they touch up to date, in one transaction.
   */
  async importEvents(events: readonly StoredEvent[]): Promise<Map<string, ImportOutcome>> {
    return writeTx(this.graph, async (tx) => {
      const written = await rows<{ event_id: string; outcome: ImportOutcome }>(tx, QUERIES['import-events'], {
        events: events.map(({ prev_events: _p, auth_events: _a, ...event }) => ({
          ...event,
          origin_server_ts: int(event.origin_server_ts),
          depth: int(event.depth),
        })),
      });
      const outcomes = new Map(written.map((row) => [row.event_id, row.outcome]));
      const stored = events.filter((event) => outcomes.get(event.event_id) === 'stored');
      if (stored.length > 0) {
        await tx.run(QUERIES['import-edges'], {
          events: stored.map(({ event_id, room_id, prev_events, auth_events }) => ({ event_id, room_id, prev_events, auth_events })),
        });
      }
      await updateCurrentState(tx, stored);
      return outcomes;
    });
  }

  async walk(request: WalkRequest): Promise<string[]> {
    const found = await readTx(this.graph, (tx) =>
      rows<{ pdu: string }>(tx, QUERIES.walk, walkParameters(request)),
    );
    return found.map((row) => row.pdu);
  }

  /** The room's newest event (greatest depth), or undefined for an unknown room. */
  async latestEvent(roomId: string): Promise<{ event_id: string; depth: number } | undefined> {
    const [row] = await readTx(this.graph, (tx) =>
      rows<{ event_id: string; depth: number }>(tx, QUERIES['room-latest-event'], { room_id: roomId }),
    );
    return row;
  }

  /** The database hits of one walk, from Neo4j's PROFILE: the work the query did, whatever the machine's load. */
  async walkDbHits(request: WalkRequest): Promise<number> {
    return readTx(this.graph, async (tx) => {
      const result = await tx.run(`PROFILE ${QUERIES.walk}`, walkParameters(request));
      const total = (plan: { dbHits: number; children: unknown[] }): number =>
        plan.dbHits + plan.children.reduce<number>((sum, child) => sum + total(child as typeof plan), 0);
      return total(result.summary.profile as unknown as { dbHits: number; children: unknown[] });
    });
  }

  async roomCount(): Promise<number> {
    const [row] = await readTx(this.graph, (tx) => rows<{ rooms: number }>(tx, QUERIES['room-count'], {}));
    return row?.rooms ?? 0;
  }
}

/**
 * Weighs each new state event against the current state of its (room, type, state_key), under a lock on that
 * entry so concurrent imports of one room take turns, and records the winners.
 */
async function updateCurrentState(tx: ManagedTransaction, stored: readonly StoredEvent[]): Promise<void> {
  const newState: StateCandidate[] = [];
  for (const event of stored) if (event.state_key !== null) newState.push({ ...event, state_key: event.state_key });
  if (newState.length === 0) return;
  const touched = new Map(newState.map(({ room_id, type, state_key }) => [JSON.stringify([room_id, type, state_key]), { room_id, type, state_key }]));
  // Locks taken in one order by every import, so two imports cannot deadlock on them.
  const keys = [...touched.keys()].sort().map((key) => touched.get(key)!);
  await tx.run(QUERIES['current-state-lock'], { keys });
  const current = await rows<StateCandidate>(tx, QUERIES['current-state-load'], { keys });
  const entries: CurrentStateEntry[] = chooseCurrentState([...current, ...newState]);
  await tx.run(QUERIES['current-state-save'], { entries });
}

function walkParameters(request: WalkRequest) {
  return {
    room_id: request.room_id,
    latest_events: request.latest_events,
    earliest_events: request.earliest_events,
    min_depth: int(request.min_depth),
    limit: int(request.limit),
  };
}
