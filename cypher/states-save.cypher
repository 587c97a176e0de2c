// Stores room states (src/core/room-state.ts): a snapshot holds every entry; any other state holds the entries
// that differ from its parent (DELTA_OF), an empty event_id marking a removed key. Each state also carries the
// summary the hot path reads: the create and server ACL event IDs, history visibility, join rule, and the servers
// with joined and invited members (with how many). A state's ID is derived from its content, so storing one twice
// changes nothing. The importer sends, parents first, every state the graph does not hold yet, including those an
// earlier batch still being written carries (src/importer/room-states.ts), so the parent MERGE finds a node this
// query or a committed write filled in, and no committed delta ever rests on a node without its entries.
// Returns: count of states written. Parameters: $states, a list of maps {state_id, room_id, parent_id (null for a
//   snapshot), hops, size, types, state_keys, event_ids (lists, one entry per key), create_event_id,
//   server_acl_event_id, history_visibility, join_rule, joined_servers, joined_members, invited_servers,
//   invited_members}.
UNWIND $states AS row
MERGE (state:State {state_id: row.state_id})
SET state.room_id = row.room_id, state.hops = row.hops, state.size = row.size, state.snapshot = row.parent_id IS NULL,
    state.types = row.types, state.state_keys = row.state_keys, state.event_ids = row.event_ids,
    state.create_event_id = row.create_event_id, state.server_acl_event_id = row.server_acl_event_id,
    state.history_visibility = row.history_visibility, state.join_rule = row.join_rule,
    state.joined_servers = row.joined_servers, state.joined_members = row.joined_members,
    state.invited_servers = row.invited_servers, state.invited_members = row.invited_members
WITH state, row
CALL (state, row) {
  WITH state, row WHERE row.parent_id IS NOT NULL
  MERGE (parent:State {state_id: row.parent_id})
  MERGE (state)-[:DELTA_OF]->(parent)
}
RETURN count(*) AS written
