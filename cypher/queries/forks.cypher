// Analyst query: where a room's DAG forks, i.e. events that more than one event names in prev_events.
// Returns: event_id, depth, children, newest first. Parameters: $room_id.
MATCH (child:Event)-[:PREV_EVENT]->(parent:Event {room_id: $room_id})
WITH parent, count(child) AS children
WHERE children > 1
RETURN parent.event_id AS event_id, parent.depth AS depth, children
ORDER BY depth DESC, event_id
