// Closes decided redactions: each gets its `redaction_outcome` ('applied' or why not), and where it applies
// (redaction)-[:REDACTS]->(target) and the label Redacted on the target, which the walk then serves pruned with
// the room version's redaction algorithm (Synapse's event store prunes a redacted event when it reads it). A
// redaction already closed is left as it is, so deciding twice changes nothing.
// Returns: count of redactions closed.
// Parameters: $decisions, a list of maps {redaction_id, target_id, outcome}.
UNWIND $decisions AS row
MATCH (redaction:Event {event_id: row.redaction_id})
WHERE redaction.redaction_pending
MATCH (target:Event {event_id: row.target_id})
REMOVE redaction.redaction_pending
SET redaction.redaction_outcome = row.outcome
FOREACH (_ IN CASE WHEN row.outcome = 'applied' THEN [1] ELSE [] END |
  MERGE (redaction)-[:REDACTS]->(target)
  SET target:Redacted)
RETURN count(*) AS closed
