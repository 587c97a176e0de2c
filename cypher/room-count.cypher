// Whether the database holds any room yet (npm start imports a demo room into an empty one).
// Returns: rooms (integer). Parameters: none.
MATCH (room:Room)
RETURN count(room) AS rooms
