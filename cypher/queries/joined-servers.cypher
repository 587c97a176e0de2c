// Analyst query: the servers with joined members in a room's current state.
// From the current state's summary: each server and how many of its users are joined.
// Returns: server, members. Parameters: $room_id.
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
MATCH (:Room {room_id: $room_id})-[:CURRENT_STATE]->(state:State)
UNWIND range(0, size(state.joined_servers) - 1) AS i
RETURN state.joined_servers[i] AS server, state.joined_members[i] AS members
ORDER BY members DESC, server
