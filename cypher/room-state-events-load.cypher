// Every stored state event of a room, with its verdict: what the authorization rules and state resolution may
// look up when an import adds events to a room that is already stored.
// Returns: pdu (as stored), rejected_reason (null when accepted). Parameters: $room_id.
MATCH (event:Event {room_id: $room_id})
WHERE event.state_key IS NOT NULL AND NOT event:Placeholder
RETURN event.pdu AS pdu, event.rejected_reason AS rejected_reason
