// Analyst query: the state before an event, one row per (type, state_key).
// What the authorization rules checked the event against. The state is a delta on a parent state, down to a
// snapshot (at most 100 hops): the first entry found for a key, walking down from the event's state, is the one in
// force; an empty event_id there means the key was removed. No row when the event's state is not known (it waits
// for a gap to be filled). $event_id null: the room's newest event with a known state, neither rejected nor
// soft-failed (the one get_missing_events would most likely be asked about). An event of another room gives one row
// saying so (in the type column) instead of that room's state; $room_id null: the event's own room, unchecked.
// Returns: type, state_key, event_id, sender, pdu (the event as stored, JSON text), rejected_reason.
// Parameters: $room_id, $event_id (null for the room's newest event).
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
//   :param event_id => null
MATCH (given:Event {event_id: $event_id})
WHERE given.room_id <> $room_id
RETURN 'event ' + given.event_id + ' is in room ' + given.room_id + ', not ' + $room_id
         + ' (set event_id to null for this room\'s newest event)' AS type,
       null AS state_key, null AS event_id, null AS sender, null AS pdu, null AS rejected_reason
UNION ALL
WITH coalesce($event_id, head(COLLECT {
  MATCH (newest:Event {room_id: $room_id})
  WHERE newest.state_after IS NOT NULL AND NOT newest:Rejected AND NOT newest:SoftFailed
  RETURN newest.event_id ORDER BY newest.depth DESC, newest.event_id DESC LIMIT 1
})) AS chosen
MATCH (event:Event {event_id: chosen})
WHERE $room_id IS NULL OR event.room_id = $room_id
MATCH (top:State {state_id: event.state_before})
MATCH path = (top)-[:DELTA_OF*0..100]->(layer:State)
WITH layer, length(path) AS hops
UNWIND range(0, size(layer.types) - 1) AS i
WITH layer.types[i] AS type, layer.state_keys[i] AS state_key, layer.event_ids[i] AS event_id, hops
ORDER BY hops
WITH type, state_key, head(collect(event_id)) AS event_id
WHERE event_id <> ''
MATCH (event:Event {event_id: event_id})
RETURN type, state_key, event_id, event.sender AS sender, event.pdu AS pdu, event.rejected_reason AS rejected_reason
ORDER BY type, state_key
