// What authorization and history visibility read at each of a few events (at most the walk's limit), for one
// server: from the summary of the state after each event, one index lookup away, so the cost depends on the number of
// events and not on the size or age of the room. state_known is false while an event waits for a gap to be filled.
// Returns: event_id, state_known, create_event_id, server_acl_event_id, history_visibility, join_rule,
//   server_joined, server_invited. Parameters: $event_ids (list), $server (server name).
UNWIND $event_ids AS id
MATCH (event:Event {event_id: id})
OPTIONAL MATCH (state:State {state_id: event.state_after})
RETURN id AS event_id, state IS NOT NULL AS state_known, state.create_event_id AS create_event_id,
       state.server_acl_event_id AS server_acl_event_id, state.history_visibility AS history_visibility,
       state.join_rule AS join_rule, coalesce($server IN state.joined_servers, false) AS server_joined,
       coalesce($server IN state.invited_servers, false) AS server_invited
