// The room's open redactions that can be decided now: the redaction's verdict is known (its state is computed) and
// the event it names is stored (not a placeholder), in whichever room. A redaction whose state or target is
// missing stays open until a later import brings it.
// Returns: one row per such redaction: redaction_id, sender, auth_events (the IDs of its stored auth events),
//   state_before, rejected (boolean), target_id, target_room_id, target_sender, target_type.
// Parameters: $room_id.
MATCH (redaction:Event {room_id: $room_id, redaction_pending: true})
WHERE redaction.state_after IS NOT NULL
MATCH (target:Event {event_id: redaction.redacts})
WHERE NOT target:Placeholder
RETURN redaction.event_id AS redaction_id, redaction.sender AS sender,
       [(redaction)-[:AUTH_EVENT]->(auth:Event) WHERE NOT auth:Placeholder | auth.event_id] AS auth_events,
       redaction.state_before AS state_before, redaction:Rejected AS rejected, target.event_id AS target_id,
       target.room_id AS target_room_id, target.sender AS target_sender, target.type AS target_type
ORDER BY redaction_id
