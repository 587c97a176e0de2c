// The newest event of a room (greatest depth, then event_id): where benchmarks and the demo start a walk.
// Returns: event_id, depth. Parameters: $room_id.
MATCH (event:Event {room_id: $room_id})
WHERE event.depth IS NOT NULL AND NOT event:Placeholder
RETURN event.event_id AS event_id, event.depth AS depth
ORDER BY event.depth DESC, event.event_id DESC
LIMIT 1
