// Benchmark baseline (Synapse's access pattern): the events its walk found, fetched once at the end as Synapse's
// get_events_as_list does, rejected events dropped (it does not return them by default), oldest first as the walk
// returns them. Returns: event_id, pdu per event, ordered by depth, origin_server_ts, event_id.
// Parameters: $event_ids (list of strings).
MATCH (event:Event)
WHERE event.event_id IN $event_ids AND NOT event:Rejected
RETURN event.event_id AS event_id, event.pdu AS pdu
ORDER BY event.depth, event.origin_server_ts, event.event_id
