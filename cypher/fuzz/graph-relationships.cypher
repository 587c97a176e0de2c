// Every relationship of the graph, for the fuzz tests' fingerprint (src/fuzz/graph-fingerprint.ts).
// Returns: start (elementId), type, end (elementId), properties. Parameters: none.
MATCH (a)-[r]->(b)
RETURN elementId(a) AS start, type(r) AS type, elementId(b) AS end, properties(r) AS properties
