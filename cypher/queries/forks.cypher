// Analyst query: where a room's DAG forks.
// The events that more than one event names in prev_events (forks-and-merges.cypher adds the merges).
// Returns: event_id, depth, children, newest first.
// Parameters: $room_id.
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
MATCH (child:Event)-[:PREV_EVENT]->(parent:Event {room_id: $room_id})
WITH parent, count(child) AS children
WHERE children > 1
RETURN parent.event_id AS event_id, parent.depth AS depth, children
ORDER BY depth DESC, event_id
