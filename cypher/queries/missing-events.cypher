// Analyst query: the events named in a room's prev_events or auth_events that are not stored (placeholders), and
// which stored events name them.
// Returns: event_id, named_by (list of event IDs). Parameters: $room_id.
MATCH (missing:Placeholder {room_id: $room_id})<-[:PREV_EVENT|AUTH_EVENT]-(event:Event)
RETURN missing.event_id AS event_id, collect(DISTINCT event.event_id) AS named_by
ORDER BY event_id
