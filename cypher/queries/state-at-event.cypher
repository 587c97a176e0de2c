// Analyst query: the state before an event, one row per (type, state_key).
// What the authorization rules checked the event against. The state is a delta on a parent state, down to a
// snapshot (at most 100 hops): the first entry found for a key, walking down from the event's state, is the one in
// force; an empty event_id there means the key was removed. No row when the event's state is not known (it waits
// for a gap to be filled).
// Returns: type, state_key, event_id, sender, pdu (the event as stored, JSON text), rejected_reason.
// Parameters: $event_id.
//   :param event_id => '$someEvent...'
MATCH (event:Event {event_id: $event_id})
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
