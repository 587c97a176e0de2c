// The event that is the current state of each (room_id, type, state_key) named, where there is one. The importer
// weighs it against the batch's new state events for that key: the rule in src/core/current-state.ts is a total
// order, so the current winner and the newcomers are all it needs, however many state events the key has had.
// Returns: event_id, room_id, type, state_key, sender, depth, origin_server_ts, pdu.
// Parameters: $keys, a list of maps {room_id, type, state_key}.
UNWIND $keys AS key
MATCH (:CurrentState {room_id: key.room_id, type: key.type, state_key: key.state_key})-[:CURRENT]->(event:Event)
RETURN event.event_id AS event_id, event.room_id AS room_id, event.type AS type, event.state_key AS state_key,
       event.sender AS sender, event.depth AS depth, event.origin_server_ts AS origin_server_ts, event.pdu AS pdu
