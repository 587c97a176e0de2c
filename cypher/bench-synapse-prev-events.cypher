// Benchmark baseline (Synapse's access pattern): ONE event and its prev events, as Synapse's _get_missing_events
// (synapse/storage/databases/main/event_federation.py) asks its event_edges table once for each event of each
// breadth-first level, all in one transaction, and walks in the application. The facts the walk's rules need
// (room, depth, placeholder) come in the same row, so the baseline makes no more queries than Synapse does.
// Returns: one row for a stored event, none for an unknown one: room_id, depth, placeholder (boolean), and
// prev_events: a list of maps {event_id, room_id, depth, placeholder}. Parameters: $event_id.
MATCH (event:Event {event_id: $event_id})
RETURN event.room_id AS room_id, event.depth AS depth, event:Placeholder AS placeholder,
       [(event)-[:PREV_EVENT]->(prev:Event) |
         {event_id: prev.event_id, room_id: prev.room_id, depth: prev.depth, placeholder: prev:Placeholder}] AS prev_events
