// Stores a batch of imported events. An event already stored is left exactly as it is; a placeholder (an event
// only named in another event's prev_events or auth_events so far) is filled in. Edges are added separately, by
// import-edges.cypher, for the events this query reports as 'stored'. An event whose state the importer computed
// in the same batch gets its state_before and state_after here too (and the label Rejected with its reason), as
// event-states-save.cypher would give them, saving a second pass over the batch's events.
// Returns: event_id, outcome ('stored' | 'unchanged' | 'conflict': already stored with another PDU) per row.
// A stored event gets one label for its kind (Create, Membership, PowerLevels, StateEvent or Message), which
// Neo4j Browser colours and analysts match on.
// Parameters: $events, a list of maps {event_id, room_id, type, state_key, sender, origin_server_ts, depth, pdu,
//   content_hash_ok, kind, state_before, state_after, rejected_reason (the three null when not computed yet)}, one per
//   event ID.
UNWIND $events AS row
MERGE (event:Event {event_id: row.event_id})
// MERGE does not lock a node it finds; this write does. Two imports of the same event then take turns, and the
// second reads the PDU the first stored, so exactly one of them stores it (and adds its edges).
SET event.locked = true
REMOVE event.locked
WITH event, row, event.pdu AS before
FOREACH (_ IN CASE WHEN before IS NULL THEN [1] ELSE [] END |
  SET event.room_id = row.room_id, event.type = row.type, event.state_key = row.state_key,
      event.sender = row.sender, event.origin_server_ts = row.origin_server_ts, event.depth = row.depth,
      event.pdu = row.pdu, event.content_hash_ok = row.content_hash_ok, event:$(row.kind)
  REMOVE event:Placeholder)
WITH event, row, before, row.state_after IS NOT NULL AND event.state_after IS NULL AS fresh_state
FOREACH (_ IN CASE WHEN fresh_state THEN [1] ELSE [] END |
  SET event.state_before = row.state_before, event.state_after = row.state_after
  REMOVE event:StatePending)
FOREACH (_ IN CASE WHEN fresh_state AND row.rejected_reason IS NOT NULL THEN [1] ELSE [] END |
  SET event:Rejected, event.rejected_reason = row.rejected_reason)
RETURN row.event_id AS event_id,
       CASE WHEN before IS NULL THEN 'stored' WHEN before = row.pdu THEN 'unchanged' ELSE 'conflict' END AS outcome
