// Links newly stored events to their room (IN_ROOM) and to their prev_events (PREV_EVENT) and auth_events
// (AUTH_EVENT); an event not stored yet becomes a placeholder node, never returned and never walked past, that
// importing it later fills in. Run only for events import-events.cypher has just stored, so CREATE never repeats
// an edge.
// Returns: count of events linked. Parameters: $events, a list of maps {event_id, room_id, prev_events,
//   auth_events}.
UNWIND $events AS row
MATCH (event:Event {event_id: row.event_id})
MATCH (room:Room {room_id: row.room_id})
CREATE (event)-[:IN_ROOM]->(room)
FOREACH (prev_id IN row.prev_events |
  MERGE (prev:Event {event_id: prev_id})
    ON CREATE SET prev:Placeholder, prev.room_id = row.room_id
  CREATE (event)-[:PREV_EVENT]->(prev))
FOREACH (auth_id IN row.auth_events |
  MERGE (auth:Event {event_id: auth_id})
    ON CREATE SET auth:Placeholder, auth.room_id = row.room_id
  CREATE (event)-[:AUTH_EVENT]->(auth))
RETURN count(*) AS linked
