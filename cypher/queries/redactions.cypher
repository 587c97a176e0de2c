// Analyst query: a room's redactions: each m.room.redaction, the event it names, and whether it applies.
// A redaction that applies makes the event it names go out pruned (the room version's redaction algorithm, as
// Synapse serves a redacted event): that event has the label Redacted and (redaction)-[:REDACTS]->(event). One
// that does not apply says why (rejected, an event of another room, an m.room.create, or in room versions 3+ an
// event of another server redacted by a sender below the redact level); an open one waits for the event it names
// or for its own state.
// Returns: redaction_id, sender, depth, redacts, target_type, target_sender, outcome ('applied', why not, or what
//   it waits for).
// Parameters: $room_id.
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
MATCH (redaction:Event {room_id: $room_id})
WHERE redaction.redacts IS NOT NULL
OPTIONAL MATCH (target:Event {event_id: redaction.redacts})
WHERE NOT target:Placeholder
RETURN redaction.event_id AS redaction_id, redaction.sender AS sender, redaction.depth AS depth,
       redaction.redacts AS redacts, target.type AS target_type, target.sender AS target_sender,
       coalesce(redaction.redaction_outcome,
                CASE WHEN target IS NULL THEN 'waiting for the redacted event' ELSE 'waiting for its own state' END) AS outcome
ORDER BY depth, redaction_id
