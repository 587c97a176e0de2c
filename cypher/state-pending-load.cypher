// A page of a room's events whose state is not known yet (label StatePending), oldest first, after a cursor.
// Returns: event_id, depth, pdu. Parameters: $room_id, $after_depth (integer), $after_event_id, $limit (integer).
MATCH (event:StatePending {room_id: $room_id})
WHERE event.depth > $after_depth OR (event.depth = $after_depth AND event.event_id > $after_event_id)
RETURN event.event_id AS event_id, event.depth AS depth, event.pdu AS pdu
ORDER BY event.depth, event.event_id
LIMIT $limit
