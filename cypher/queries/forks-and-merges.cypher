// Analyst query: where a room's DAG forks and where it merges.
// Where a room's DAG forks (an event named in prev_events by more than one event) and where it merges (an event with
// several prev_events), newest first. Rejected and soft-failed children count: they are in the DAG.
// Returns: event_id, type, depth, kind ('fork' | 'merge' | 'fork and merge'), prev_events (how many it names),
//   children (how many events name it).
// Parameters: $room_id.
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
MATCH (event:Event {room_id: $room_id})
WHERE NOT event:Placeholder
WITH event, COUNT { (event)-[:PREV_EVENT]->(:Event) } AS prev_events, COUNT { (:Event)-[:PREV_EVENT]->(event) } AS children
WHERE prev_events > 1 OR children > 1
RETURN event.event_id AS event_id, event.type AS type, event.depth AS depth,
       CASE WHEN prev_events > 1 AND children > 1 THEN 'fork and merge' WHEN children > 1 THEN 'fork' ELSE 'merge' END AS kind,
       prev_events, children
ORDER BY depth DESC, event_id
