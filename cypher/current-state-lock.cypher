// Takes the write lock on the current-state entry of each (room_id, type, state_key) before its candidates are
// read, so that two imports writing the same room at once choose the current state one after the other, each
// seeing the other's committed events. Callers pass the keys sorted, so locks are always taken in one order.
// Returns: count of entries locked. Parameters: $keys, a list of maps {room_id, type, state_key}.
UNWIND $keys AS key
MERGE (state:CurrentState {room_id: key.room_id, type: key.type, state_key: key.state_key})
SET state.locked = true
REMOVE state.locked
RETURN count(state) AS locked
