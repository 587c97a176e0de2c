// Records the event each imported m.room.redaction names (`redacts`), once, and leaves the redaction open
// (`redaction_pending`) until both it and the event it names are stored and its own verdict is known; then
// redactions-apply.cypher decides it (the importer's settle step, src/importer/redactions.ts). Run in the
// transaction that stores the batch, so a redaction is never stored without its record. Only a redaction stored
// with exactly this PDU is recorded: an event ID already stored with another PDU keeps what the stored one says.
// Returns: count of redactions recorded.
// Parameters: $redactions, a list of maps {event_id, pdu, redacts}.
UNWIND $redactions AS row
MATCH (redaction:Event {event_id: row.event_id})
WHERE redaction.pdu = row.pdu AND redaction.redacts IS NULL
SET redaction.redacts = row.redacts, redaction.redaction_pending = true
RETURN count(*) AS recorded
