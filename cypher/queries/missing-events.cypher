// Analyst query: the gaps in a room's DAG: events named but not stored, and who names them.
// Placeholders are events named in prev_events or auth_events that have not been imported; the events below them
// wait with their state unknown (StatePending) until an import fills the gap.
// Returns: event_id, named_by (list of event IDs). Parameters: $room_id.
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
MATCH (missing:Placeholder {room_id: $room_id})<-[:PREV_EVENT|AUTH_EVENT]-(event:Event)
RETURN missing.event_id AS event_id, collect(DISTINCT event.event_id) AS named_by
ORDER BY event_id
