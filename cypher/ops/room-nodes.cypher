// Every node of one room (its Room node, events with placeholders, states) with its labels and properties, for
// the fingerprint of test/helpers/room-fingerprint.ts (the import crash and bulk import tests).
// Returns: labels, properties. Parameters: room_id.
CALL {
  MATCH (n:Room {room_id: $room_id}) RETURN n
  UNION ALL
  MATCH (n:Event {room_id: $room_id}) RETURN n
  UNION ALL
  MATCH (n:State {room_id: $room_id}) RETURN n
}
RETURN labels(n) AS labels, properties(n) AS properties
