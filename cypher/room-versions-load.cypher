// The stored version of each named room that is known.
// Returns: room_id, room_version. Parameters: $room_ids, a list of room IDs.
MATCH (room:Room)
WHERE room.room_id IN $room_ids
RETURN room.room_id AS room_id, room.room_version AS room_version
