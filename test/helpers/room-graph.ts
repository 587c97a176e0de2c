/**
 * Reading and clearing a room's state in the test Neo4j, the same way in every integration test: raw queries,
 * the state before an event (the analysts' state-at-event query), a room's current state (walking its DELTA_OF
 * chain like that query), and a seeded shuffle of import lines.
 */
import { SeededRandom } from '../../src/generator/random';
import { loadCypher } from '../../src/store/cypher-files';
import { plain, type Graph } from '../../src/store/neo4j';

const QUERIES = loadCypher(['queries/state-at-event']);

export async function queryGraph<T>(graph: Graph, cypher: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const { records } = await graph.driver.executeQuery(cypher, params, { database: graph.database });
  return records.map((record) => plain(record.toObject()) as T);
}

export interface StateEntryRow {
  readonly type: string;
  readonly state_key: string;
  readonly event_id: string;
  /** The event as stored (JSON text). */
  readonly pdu: string;
}

/** The entries of the room's current state (none when it has no current state yet). */
export function currentStateEntries(graph: Graph, roomId: string): Promise<StateEntryRow[]> {
  return queryGraph<StateEntryRow>(
    graph,
    `MATCH (:Room {room_id: $room_id})-[:CURRENT_STATE]->(top:State)
     MATCH path = (top)-[:DELTA_OF*0..100]->(layer:State)
     WITH layer, length(path) AS hops
     UNWIND range(0, size(layer.types) - 1) AS i
     WITH layer.types[i] AS type, layer.state_keys[i] AS state_key, layer.event_ids[i] AS event_id, hops ORDER BY hops
     WITH type, state_key, head(collect(event_id)) AS event_id WHERE event_id <> ''
     MATCH (event:Event {event_id: event_id})
     RETURN type, state_key, event_id, event.pdu AS pdu`,
    { room_id: roomId },
  );
}

/** The room's current state as `type|state_key -> event_id`. */
export async function currentStateMap(graph: Graph, roomId: string): Promise<Record<string, string>> {
  const entries = await currentStateEntries(graph, roomId);
  return Object.fromEntries(entries.map((e) => [`${e.type}|${e.state_key}`, e.event_id]));
}

/** The state before an event as `type|state_key -> event_id`, from the analysts' query. */
export async function stateBeforeMap(graph: Graph, eventId: string): Promise<Record<string, string>> {
  const found = await queryGraph<{ type: string; state_key: string; event_id: string }>(graph, QUERIES['queries/state-at-event'], { room_id: null, event_id: eventId });
  return Object.fromEntries(found.map((row) => [`${row.type}|${row.state_key}`, row.event_id]));
}

/** Deletes a room's events, states and Room node. */
export async function deleteRoomGraph(graph: Graph, roomId: string): Promise<void> {
  await queryGraph(graph, 'MATCH (e:Event {room_id: $room_id}) DETACH DELETE e', { room_id: roomId });
  await queryGraph(graph, 'MATCH (s:State {room_id: $room_id}) DETACH DELETE s', { room_id: roomId });
  await queryGraph(graph, 'MATCH (r:Room {room_id: $room_id}) DETACH DELETE r', { room_id: roomId });
}

/** A copy of `items` in an order the seed fixes (Fisher-Yates). */
export function shuffled<T>(items: readonly T[], seed: string): T[] {
  const random = new SeededRandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
