// How many nodes the database holds, of any label (rooms, events, states, stored server keys): a bulk import
// (neo4j-admin database import) replaces them all, so it refuses a database that holds any unless told to replace it.
// Returns: nodes, rooms (integers). Parameters: none.
MATCH (n)
RETURN count(n) AS nodes, COUNT { MATCH (:Room) } AS rooms
