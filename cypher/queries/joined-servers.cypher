// Analyst query: the servers with joined members in a room's current state, and how many members each has (from
// the current state's summary).
// Returns: server, members. Parameters: $room_id.
MATCH (:Room {room_id: $room_id})-[:CURRENT_STATE]->(state:State)
UNWIND range(0, size(state.joined_servers) - 1) AS i
RETURN state.joined_servers[i] AS server, state.joined_members[i] AS members
ORDER BY members DESC, server
