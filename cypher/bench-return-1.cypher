// Benchmark baseline: the round-trip floor, a query that reads nothing, sent through the same driver and session
// settings as the walk. Returns: one row (one = 1). Parameters: none.
RETURN 1 AS one
