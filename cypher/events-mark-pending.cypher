// Marks events whose state cannot be computed yet (a prev event or auth event is missing, or has no state yet)
// with the label StatePending; a later import that fills the gap computes them (state-pending-load.cypher).
// Returns: count of events marked. Parameters: $event_ids, a list of event IDs.
UNWIND $event_ids AS id
MATCH (event:Event {event_id: id})
WHERE NOT event:Placeholder AND event.state_after IS NULL
SET event:StatePending
RETURN count(*) AS marked
