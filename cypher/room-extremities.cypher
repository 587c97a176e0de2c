// The room's forward extremities for its current state: accepted events with a known state that no accepted event
// with a known state names in its prev_events, held as the label Extremity (extremities-update.cypher; a room is
// labelled from scratch once by room-extremities-label.cypher, run first). Rejected and soft-failed events are
// never extremities, and a soft-failed child does not hide its parent, as in Synapse.
// Takes the room's write lock first, so two imports settle the current state one after the other.
// Returns: event_id, state_after, pdu. Parameters: $room_id.
MATCH (room:Room {room_id: $room_id})
SET room.locked = true
REMOVE room.locked
WITH room
MATCH (event:Extremity {room_id: $room_id})
RETURN event.event_id AS event_id, event.state_after AS state_after, event.pdu AS pdu
ORDER BY event_id
