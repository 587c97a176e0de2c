// Benchmark: events to build realistic get_missing_events requests from: the room's forward extremities (events no
// event names in prev_events) and its newest events. Returns: event_id, depth, extremity (boolean), newest first.
// Parameters: $room_id, $count (how many of the newest events).
MATCH (event:Event {room_id: $room_id})
WHERE event.depth IS NOT NULL AND NOT event:Placeholder AND NOT event:Rejected
WITH event ORDER BY event.depth DESC, event.event_id LIMIT $count
RETURN event.event_id AS event_id, event.depth AS depth, NOT EXISTS { (:Event)-[:PREV_EVENT]->(event) } AS extremity
ORDER BY depth DESC, event_id
