// Analyst query: how many events each user sent to a room.
// How many of a room's stored events each user sent, of which state events, rejected and soft-failed ones, and the
// depths of their first and last.
// Returns: sender, events, state_events, rejected, soft_failed, first_depth, last_depth; most events first.
// Parameters: $room_id.
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
MATCH (event:Event {room_id: $room_id})
WHERE NOT event:Placeholder
RETURN event.sender AS sender, count(*) AS events, count(event.state_key) AS state_events,
       count(CASE WHEN event:Rejected THEN 1 END) AS rejected, count(CASE WHEN event:SoftFailed THEN 1 END) AS soft_failed,
       min(event.depth) AS first_depth, max(event.depth) AS last_depth
ORDER BY events DESC, sender
