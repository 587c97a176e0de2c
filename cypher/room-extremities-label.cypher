// Labels a room's forward extremities Extremity from scratch, once per room: a room stored before the label was
// kept (or by the bulk importer) has none or only some. Visits every event of the room; afterwards the label is kept
// in step by extremities-update.cypher and events-mark-soft-failed.cypher, and the room is marked
// extremities_labelled so this does nothing. Run under the room's lock (room-extremities.cypher's first step).
// Returns: count of events labelled (no row when the room was labelled already). Parameters: $room_id.
MATCH (room:Room {room_id: $room_id})
WHERE room.extremities_labelled IS NULL
SET room.extremities_labelled = true
WITH room
MATCH (event:Event {room_id: $room_id})
WITH event,
     event.state_after IS NOT NULL AND NOT event:Rejected AND NOT event:SoftFailed
       AND NOT EXISTS {
         MATCH (child:Event)-[:PREV_EVENT]->(event)
         WHERE child.state_after IS NOT NULL AND NOT child:Rejected AND NOT child:SoftFailed
       } AS extremity
FOREACH (_ IN CASE WHEN extremity THEN [1] ELSE [] END | SET event:Extremity)
FOREACH (_ IN CASE WHEN extremity THEN [] ELSE [1] END | REMOVE event:Extremity)
RETURN count(CASE WHEN extremity THEN 1 END) AS labelled
