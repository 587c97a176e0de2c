// Benchmark baseline: a whole room's DAG, read once into the application's memory for a breadth-first walk over
// adjacency maps. Returns: one row per event of the room (placeholders included): event_id, depth,
// origin_server_ts, placeholder, rejected (booleans), prev_events (the IDs of its prev events that are :Event
// nodes). Parameters: $room_id.
MATCH (event:Event {room_id: $room_id})
RETURN event.event_id AS event_id, event.depth AS depth, event.origin_server_ts AS origin_server_ts,
       event:Placeholder AS placeholder, event:Rejected AS rejected,
       [(event)-[:PREV_EVENT]->(prev:Event) | prev.event_id] AS prev_events
