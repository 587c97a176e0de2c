// Analyst query: the newest events of a room and the PREV_EVENT edges among them, to draw the DAG in Neo4j Browser.
// Returns: paths (event)-[:PREV_EVENT]->(prev) between the room's $count newest events.
// Parameters: $room_id, $count (integer).
MATCH (event:Event {room_id: $room_id})
WHERE NOT event:Placeholder
WITH event ORDER BY event.depth DESC, event.event_id DESC LIMIT $count
WITH collect(event) AS newest
UNWIND newest AS event
MATCH path = (event)-[:PREV_EVENT]->(prev:Event)
WHERE prev IN newest
RETURN path
