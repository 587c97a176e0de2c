// What a room takes in the graph: its events, its states (nodes, entries held in their lists, snapshots), and the
// relationships of each kind that start at them. The benchmark divides them by the number of events.
// Returns: events, states, snapshots, state_entries, prev_event, auth_event, in_room, delta_of. Parameters: $room_id.
CALL () {
  MATCH (event:Event {room_id: $room_id}) WHERE NOT event:Placeholder
  RETURN count(event) AS events, sum(COUNT { (event)-[:PREV_EVENT]->() }) AS prev_event,
         sum(COUNT { (event)-[:AUTH_EVENT]->() }) AS auth_event, sum(COUNT { (event)-[:IN_ROOM]->() }) AS in_room
}
CALL () {
  MATCH (state:State {room_id: $room_id})
  RETURN count(state) AS states, sum(CASE WHEN state.snapshot THEN 1 ELSE 0 END) AS snapshots,
         sum(size(state.types)) AS state_entries, sum(COUNT { (state)-[:DELTA_OF]->() }) AS delta_of
}
RETURN events, states, snapshots, state_entries, prev_event, auth_event, in_room, delta_of
