// Analyst query: the timeline of one state key: every event of a type and state_key, in depth order.
// Every stored event of type $type and state key $state_key in the room, whether it was accepted, rejected (with
// why), soft-failed or is waiting for a gap, and which one the room's current state holds (the current state is a
// delta on a parent state, down to a snapshot: the first entry found for the key, walking down, is in force).
// Returns: depth, event_id, sender, origin_server_ts, status ('accepted' | 'rejected' | 'soft-failed' |
//   'state pending'), reason, current (true for the event in the current state), pdu (the event as stored).
// Parameters: $room_id, $type, $state_key ('' for most room state; the user ID for m.room.member; null for the state
//   key of the room's newest event of $type).
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
//   :param type => 'm.room.member'
//   :param state_key => null
WITH coalesce($state_key, head(COLLECT {
  MATCH (newest:Event {room_id: $room_id, type: $type})
  WHERE newest.state_key IS NOT NULL AND NOT newest:Placeholder
  RETURN newest.state_key ORDER BY newest.depth DESC, newest.event_id DESC LIMIT 1
})) AS state_key
OPTIONAL MATCH (:Room {room_id: $room_id})-[:CURRENT_STATE]->(top:State)
OPTIONAL MATCH path = (top)-[:DELTA_OF*0..100]->(layer:State)
WITH state_key, layer, length(path) AS hops
ORDER BY hops
WITH state_key, [layer IN collect(layer) |
       [i IN range(0, size(layer.types) - 1) WHERE layer.types[i] = $type AND layer.state_keys[i] = state_key | layer.event_ids[i]]] AS entries
WITH state_key, head([entry IN entries WHERE size(entry) > 0 | entry[0]]) AS current_event_id
MATCH (event:Event {room_id: $room_id})
WHERE event.type = $type AND event.state_key = state_key AND NOT event:Placeholder
RETURN event.depth AS depth, event.event_id AS event_id, event.sender AS sender, event.origin_server_ts AS origin_server_ts,
       CASE WHEN event:Rejected THEN 'rejected' WHEN event:SoftFailed THEN 'soft-failed'
            WHEN event.state_after IS NULL THEN 'state pending' ELSE 'accepted' END AS status,
       coalesce(event.rejected_reason, event.soft_failed_reason) AS reason,
       coalesce(event.event_id = current_event_id, false) AS current, event.pdu AS pdu
ORDER BY depth, origin_server_ts, event_id
