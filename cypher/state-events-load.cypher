// The stored state events among the named events, with their verdicts: what an importer that read a room's state
// events earlier (room-state-events-load.cypher) learns of the events another importer stored since (a follower's
// settling importer, told of each commit's events, src/follow/follower.ts). Messages and placeholders are left out.
// Returns: room_id, pdu (as stored), rejected_reason (null when accepted or not decided yet). Parameters: $event_ids.
UNWIND $event_ids AS id
MATCH (event:Event {event_id: id})
WHERE event.state_key IS NOT NULL AND NOT event:Placeholder
RETURN event.room_id AS room_id, event.pdu AS pdu, event.rejected_reason AS rejected_reason
