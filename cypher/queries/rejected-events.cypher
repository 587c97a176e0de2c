// Analyst query: a room's rejected, soft-failed and state-pending events, with the reason.
// Rejected events failed the authorization rules on their auth_events or on the state before them: they are stored
// and walked through, but never enter any state and are never returned by get_missing_events. Soft-failed events
// passed those checks but fail against the room's current state, so they are not forward extremities. State-pending
// events lie below a gap: their state is still unknown.
// Returns: event_id, type, sender, depth, status ('rejected' | 'soft-failed' | 'state pending'), reason.
// Parameters: $room_id.
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
MATCH (event:Event {room_id: $room_id})
WHERE event:Rejected OR event:SoftFailed OR event:StatePending
RETURN event.event_id AS event_id, event.type AS type, event.sender AS sender, event.depth AS depth,
       CASE WHEN event:Rejected THEN 'rejected' WHEN event:SoftFailed THEN 'soft-failed' ELSE 'state pending' END AS status,
       coalesce(event.rejected_reason, event.soft_failed_reason, 'a prev event or auth event has no known state yet') AS reason
ORDER BY depth, event_id
