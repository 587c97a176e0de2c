// Deletes one room's events (placeholders included), states and Room node: the importer fuzz removes each room it
// made, so `npm run fuzz` leaves a database as it found it.
// Returns: nothing. Parameters: room_id.
CALL { MATCH (e:Event {room_id: $room_id}) DETACH DELETE e }
CALL { MATCH (s:State {room_id: $room_id}) DETACH DELETE s }
CALL { MATCH (r:Room {room_id: $room_id}) DETACH DELETE r }
