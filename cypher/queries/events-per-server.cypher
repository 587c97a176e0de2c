// Analyst query: how many events each server sent to a room.
// How many of a room's stored events each server sent (the server of the sender's user ID), of which state events
// and rejected ones, and how many of its users sent them.
// Returns: server, senders, events, state_events, rejected; most events first.
// Parameters: $room_id.
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
MATCH (event:Event {room_id: $room_id})
WHERE NOT event:Placeholder
WITH event, substring(event.sender, size(split(event.sender, ':')[0]) + 1) AS server
RETURN server, count(DISTINCT event.sender) AS senders, count(*) AS events,
       count(event.state_key) AS state_events, count(CASE WHEN event:Rejected THEN 1 END) AS rejected
ORDER BY events DESC, server
