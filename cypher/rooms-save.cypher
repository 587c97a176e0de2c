// Creates the rooms a batch of events belongs to, with the room version their m.room.create declares.
// Returns: room_id, room_version (as stored: an existing room keeps its version).
// Parameters: $rooms, a list of maps {room_id, room_version}.
UNWIND $rooms AS row
MERGE (room:Room {room_id: row.room_id})
  ON CREATE SET room.room_version = row.room_version
RETURN room.room_id AS room_id, room.room_version AS room_version
