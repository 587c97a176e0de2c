// A query that reads nothing: the availability probe's question "does Neo4j answer?" (src/store/availability.ts),
// and the benchmark's round-trip floor, sent through the same driver and session settings as the walk.
// Returns: one row (one = 1). Parameters: none.
RETURN 1 AS one
