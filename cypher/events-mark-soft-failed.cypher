// Marks forward extremities that fail the authorization rules against the room's current state as soft-failed
// (spec: "Soft failure"): label SoftFailed with the reason. They stay in the DAG and are returned by
// get_missing_events, but are no longer forward extremities, so they do not count towards the current state.
// Returns: count of events marked. Parameters: $events, a list of maps {event_id, reason}.
UNWIND $events AS row
MATCH (event:Event {event_id: row.event_id})
SET event:SoftFailed, event.soft_failed_reason = row.reason
RETURN count(*) AS marked
