// For each named event that is stored (not a placeholder): its room, its states (null while pending) and whether
// it was rejected. The importer asks for the prev_events and auth_events it has not seen in this import.
// Returns: event_id, room_id, state_key (null for an event that is not a state event: one named in auth_events is
// rejected), state_before, state_after (state IDs or null), rejected_reason (null when accepted).
// Parameters: $event_ids, a list of event IDs.
UNWIND $event_ids AS id
MATCH (event:Event {event_id: id})
WHERE NOT event:Placeholder
RETURN event.event_id AS event_id, event.room_id AS room_id, event.state_key AS state_key,
       event.state_before AS state_before,
       event.state_after AS state_after, event.rejected_reason AS rejected_reason
