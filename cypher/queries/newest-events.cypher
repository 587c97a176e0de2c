// Analyst query: the newest events of a room and the DAG between them, to draw.
// The PREV_EVENT edges among the room's $count newest events (by depth), as paths for Neo4j Browser.
// Returns: path, one (event)-[:PREV_EVENT]->(prev) each.
// Parameters: $room_id, $count (integer).
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
//   :param count => 30
MATCH (event:Event {room_id: $room_id})
WHERE NOT event:Placeholder
WITH event ORDER BY event.depth DESC, event.event_id DESC LIMIT $count
WITH collect(event) AS newest
UNWIND newest AS event
MATCH path = (event)-[:PREV_EVENT]->(prev:Event)
WHERE prev IN newest
RETURN path
