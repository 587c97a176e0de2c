// Every node of the graph, for the fuzz tests' fingerprint (src/fuzz/graph-fingerprint.ts): a request must leave
// the stored data exactly as it found it.
// Returns: id (elementId), labels, properties. Parameters: none.
MATCH (n)
RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS properties
