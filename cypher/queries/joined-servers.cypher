// Analyst query: the servers with joined members in a room's current state, and how many members each has.
// Returns: server, members. Parameters: $room_id.
MATCH (state:CurrentState {room_id: $room_id, type: 'm.room.member', membership: 'join'})
RETURN state.member_server AS server, count(*) AS members
ORDER BY members DESC, server
