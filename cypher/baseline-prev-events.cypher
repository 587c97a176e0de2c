// Benchmark baseline (Synapse's access pattern): the prev events of ONE event, as Synapse's get_missing_events asks
// its event_edges table once per event of each breadth-first level; the walking is done in the application.
// Returns: event_id, room_id, depth, placeholder (boolean) per prev event. Parameters: $event_id.
MATCH (:Event {event_id: $event_id})-[:PREV_EVENT]->(prev:Event)
RETURN prev.event_id AS event_id, prev.room_id AS room_id, prev.depth AS depth, prev:Placeholder AS placeholder
