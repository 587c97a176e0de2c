// Keeps the label Extremity (a room's forward extremities: accepted events with a known state that no accepted
// event with a known state names in prev_events; accepted = neither Rejected nor SoftFailed) in step, in the
// transaction that gives events their state: each named event that now counts takes the label from its prev events
// and has it unless an event that counts already names it. Local to the events named, so settling a room reads its
// few extremities instead of every event (room-extremities.cypher). Safe to run again on the same events.
// Returns: count of events that count. Parameters: $event_ids.
UNWIND $event_ids AS id
MATCH (event:Event {event_id: id})
WHERE event.state_after IS NOT NULL AND NOT event:Rejected AND NOT event:SoftFailed
FOREACH (parent IN [(event)-[:PREV_EVENT]->(parent:Extremity) | parent] | REMOVE parent:Extremity)
WITH event
WHERE NOT EXISTS {
  MATCH (child:Event)-[:PREV_EVENT]->(event)
  WHERE child.state_after IS NOT NULL AND NOT child:Rejected AND NOT child:SoftFailed
}
SET event:Extremity
RETURN count(*) AS counted
