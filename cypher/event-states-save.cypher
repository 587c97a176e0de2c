// Records the state before and after each event as the IDs of (:State) nodes, event.state_before and
// event.state_after (the same state for a message or a rejected event), and marks a rejected event with the label
// Rejected and its reason. Properties rather than relationships: thousands of events share a state, and a
// relationship to it would lock that one node for every event written. An event whose states are already recorded
// is left as it is (two imports may compute the same event's state). Batches are written two at a time, so an
// event of the other batch may not be committed yet: MERGE makes its node, which that batch's
// import-events.cypher fills in.
// Returns: count of events recorded. Parameters: $events, a list of maps {event_id, state_before, state_after,
//   rejected_reason (null when accepted)}.
UNWIND $events AS row
MERGE (event:Event {event_id: row.event_id})
WITH event, row WHERE event.state_after IS NULL
SET event.state_before = row.state_before, event.state_after = row.state_after
REMOVE event:StatePending
FOREACH (_ IN CASE WHEN row.rejected_reason IS NULL THEN [] ELSE [1] END |
  SET event:Rejected, event.rejected_reason = row.rejected_reason)
RETURN count(*) AS recorded
