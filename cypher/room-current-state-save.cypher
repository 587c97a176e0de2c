// Points the room at its current state (the resolution of its forward extremities' states): (:Room)-[:CURRENT_STATE]->(:State).
// Returns: count of rooms updated. Parameters: $room_id, $state_id.
MATCH (room:Room {room_id: $room_id})
MATCH (state:State {state_id: $state_id})
OPTIONAL MATCH (room)-[old:CURRENT_STATE]->()
DELETE old
WITH DISTINCT room, state
CREATE (room)-[:CURRENT_STATE]->(state)
RETURN count(room) AS updated
