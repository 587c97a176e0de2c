// Records the current state event of each (room_id, type, state_key), linked to the event with CURRENT.
// Returns: count of entries written. Parameters: $entries, a list of maps {room_id, type, state_key, event_id,
//   sender, content (JSON string), membership, member_server}.
UNWIND $entries AS entry
MERGE (state:CurrentState {room_id: entry.room_id, type: entry.type, state_key: entry.state_key})
SET state.event_id = entry.event_id, state.sender = entry.sender, state.content = entry.content,
    state.membership = entry.membership, state.member_server = entry.member_server
WITH state, entry
OPTIONAL MATCH (state)-[old:CURRENT]->()
DELETE old
WITH DISTINCT state, entry
MATCH (event:Event {event_id: entry.event_id})
MERGE (state)-[:CURRENT]->(event)
RETURN count(*) AS written
