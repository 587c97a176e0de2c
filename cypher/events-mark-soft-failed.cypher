// Marks forward extremities that fail the authorization rules against the room's current state as soft-failed
// (spec: "Soft failure"): label SoftFailed with the reason. They stay in the DAG and are returned by
// get_missing_events, but are no longer forward extremities, so they do not count towards the current state: each
// loses the label Extremity, and a prev event of it that counts and that no other event counting names gets it (a
// soft-failed child does not hide its parent; see extremities-update.cypher).
// Returns: count of events marked. Parameters: $events, a list of maps {event_id, reason}.
UNWIND $events AS row
MATCH (event:Event {event_id: row.event_id})
SET event:SoftFailed, event.soft_failed_reason = row.reason
REMOVE event:Extremity
WITH collect(event) AS marked
UNWIND marked AS event
OPTIONAL MATCH (event)-[:PREV_EVENT]->(parent:Event)
WHERE parent.state_after IS NOT NULL AND NOT parent:Rejected AND NOT parent:SoftFailed
  AND NOT EXISTS {
    MATCH (child:Event)-[:PREV_EVENT]->(parent)
    WHERE child.state_after IS NOT NULL AND NOT child:Rejected AND NOT child:SoftFailed
  }
FOREACH (_ IN CASE WHEN parent IS NULL THEN [] ELSE [1] END | SET parent:Extremity)
RETURN count(DISTINCT event) AS marked
