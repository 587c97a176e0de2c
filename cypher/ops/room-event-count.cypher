// How many events of one room are stored (placeholders not counted): how far an import has got.
// Returns: one row, `events`. Parameters: room_id.
MATCH (e:Event {room_id: $room_id})
WHERE NOT e:Placeholder
RETURN count(e) AS events
