// Analyst query: every room, its version and how many events are stored for it.
// Placeholders (events named but not stored) are not counted.
// Returns: room_id, room_version, events. Parameters: none.
MATCH (room:Room)
OPTIONAL MATCH (event:Event)-[:IN_ROOM]->(room)
RETURN room.room_id AS room_id, room.room_version AS room_version, count(event) AS events
ORDER BY events DESC, room_id
