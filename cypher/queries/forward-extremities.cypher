// Analyst query: a room's forward extremities, and the DAG's other tips with why they do not count.
// A room's forward extremities (the DAG's tips its current state is resolved from) and the tips that do not count as
// such, with why. A tip is an event that no event with a known state, neither rejected nor soft-failed, names in
// prev_events: the rule the label :Extremity is kept by (cypher/extremities-update.cypher), applied here to every event.
// Returns: event_id, type, sender, depth, status ('forward extremity' | 'soft-failed' | 'rejected' |
//   'state pending': below a gap, its state unknown), reason (null for a forward extremity); newest first.
// Parameters: $room_id.
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
MATCH (event:Event {room_id: $room_id})
WHERE NOT event:Placeholder
  AND NOT EXISTS {
    MATCH (child:Event)-[:PREV_EVENT]->(event)
    WHERE child.state_after IS NOT NULL AND NOT child:Rejected AND NOT child:SoftFailed
  }
RETURN event.event_id AS event_id, event.type AS type, event.sender AS sender, event.depth AS depth,
       CASE WHEN event:Rejected THEN 'rejected' WHEN event:SoftFailed THEN 'soft-failed'
            WHEN event.state_after IS NULL THEN 'state pending' ELSE 'forward extremity' END AS status,
       coalesce(event.rejected_reason, event.soft_failed_reason,
                CASE WHEN event.state_after IS NULL THEN 'a prev event or auth event has no known state yet' END) AS reason
ORDER BY depth DESC, event_id
