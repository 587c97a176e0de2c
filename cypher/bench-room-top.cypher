// Benchmark: the newest events of a room, to build the get_missing_events requests a real caller sends from them.
// Forward extremities are events no accepted event names in prev_events (as room-extremities.cypher, without
// the lock or the state condition). Returns, newest first (depth descending, then event_id): event_id, depth,
// prev_events (IDs), extremity (boolean), for at most $count accepted events. Parameters: $room_id, $count.
MATCH (event:Event {room_id: $room_id})
WHERE event.depth IS NOT NULL AND NOT event:Placeholder AND NOT event:Rejected
WITH event ORDER BY event.depth DESC, event.event_id LIMIT $count
RETURN event.event_id AS event_id, event.depth AS depth,
       [(event)-[:PREV_EVENT]->(prev:Event) | prev.event_id] AS prev_events,
       NOT EXISTS { MATCH (child:Event)-[:PREV_EVENT]->(event) WHERE NOT child:Rejected AND NOT child:Placeholder } AS extremity
ORDER BY depth DESC, event_id
