// Every relationship leaving one room's nodes, its ends named by their keys (event_id, state_id or room_id) rather
// than by element IDs, so two imports of the same room into different databases compare equal.
// Returns: start, type, end, properties. Parameters: room_id.
CALL {
  MATCH (n:Room {room_id: $room_id}) RETURN n
  UNION ALL
  MATCH (n:Event {room_id: $room_id}) RETURN n
  UNION ALL
  MATCH (n:State {room_id: $room_id}) RETURN n
}
MATCH (n)-[r]->(m)
RETURN coalesce(n.event_id, n.state_id, n.room_id) AS start, type(r) AS type,
       coalesce(m.event_id, m.state_id, m.room_id, m.server_name) AS end, properties(r) AS properties
