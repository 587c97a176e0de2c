// Sets list properties of stored states: the lists a bulk import's CSV cannot hold (neo4j-admin reads an empty
// list, or one empty string, as no value at all, and splits an element holding the array delimiter), with the
// values states-save.cypher would give them.
// Returns: count of states updated. Parameters: $states, a list of maps {state_id, lists: a map of list properties
//   (types, state_keys, event_ids, joined_servers, joined_members, invited_servers, invited_members)}.
UNWIND $states AS row
MATCH (state:State {state_id: row.state_id})
SET state += row.lists
RETURN count(*) AS updated
