// The named states and every state their deltas rest on, down to the snapshot (at most 100 hops each), so the
// importer can rebuild them in memory.
// Returns: one row per state: state_id, parent_id (null for a snapshot), hops, size, types, state_keys,
//   event_ids, and the summary (create_event_id, server_acl_event_id, history_visibility, join_rule,
//   joined_servers, joined_members, invited_servers, invited_members). Parameters: $state_ids.
UNWIND $state_ids AS id
MATCH (top:State {state_id: id})
MATCH (top)-[:DELTA_OF*0..100]->(state:State)
WITH DISTINCT state
OPTIONAL MATCH (state)-[:DELTA_OF]->(parent:State)
RETURN state.state_id AS state_id, parent.state_id AS parent_id, state.hops AS hops, state.size AS size,
       state.types AS types, state.state_keys AS state_keys, state.event_ids AS event_ids,
       state.create_event_id AS create_event_id, state.server_acl_event_id AS server_acl_event_id,
       state.history_visibility AS history_visibility, state.join_rule AS join_rule,
       state.joined_servers AS joined_servers, state.joined_members AS joined_members,
       state.invited_servers AS invited_servers, state.invited_members AS invited_members
