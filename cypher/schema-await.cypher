// Waits until every index and constraint of the schema is online (at most 300 seconds).
// Returns nothing. Parameters: none.
CALL db.awaitIndexes(300)
