// Every stored state event for each (room_id, type, state_key) named, to choose the current state from.
// Returns: event_id, room_id, type, state_key, sender, depth, origin_server_ts, pdu.
// Parameters: $keys, a list of maps {room_id, type, state_key}.
UNWIND $keys AS key
MATCH (event:Event {room_id: key.room_id, type: key.type, state_key: key.state_key})
WHERE NOT event:Placeholder
RETURN event.event_id AS event_id, event.room_id AS room_id, event.type AS type, event.state_key AS state_key,
       event.sender AS sender, event.depth AS depth, event.origin_server_ts AS origin_server_ts, event.pdu AS pdu
