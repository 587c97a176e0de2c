// Benchmark baseline: what the application needs of the events it walked to, fetched once at the end as Synapse
// fetches the events its walk found. Returns: event_id, room_id, depth, origin_server_ts, placeholder, rejected,
// pdu per event found. Parameters: $event_ids.
MATCH (event:Event)
WHERE event.event_id IN $event_ids
RETURN event.event_id AS event_id, event.room_id AS room_id, event.depth AS depth,
       event.origin_server_ts AS origin_server_ts, event:Placeholder AS placeholder, event:Rejected AS rejected,
       event.pdu AS pdu
