// The room graph's constraints and indexes. Applied at start-up and in tests; every statement is idempotent.
// Returns nothing. Parameters: none.
CREATE CONSTRAINT room_id_unique IF NOT EXISTS FOR (r:Room) REQUIRE r.room_id IS UNIQUE;
CREATE CONSTRAINT event_id_unique IF NOT EXISTS FOR (e:Event) REQUIRE e.event_id IS UNIQUE;
CREATE INDEX event_room_depth IF NOT EXISTS FOR (e:Event) ON (e.room_id, e.depth);
CREATE INDEX event_room_state IF NOT EXISTS FOR (e:Event) ON (e.room_id, e.type, e.state_key);
CREATE CONSTRAINT state_id_unique IF NOT EXISTS FOR (s:State) REQUIRE s.state_id IS UNIQUE;
CREATE INDEX state_pending_room IF NOT EXISTS FOR (e:StatePending) ON (e.room_id, e.depth);
CREATE INDEX event_redaction_pending IF NOT EXISTS FOR (e:Event) ON (e.room_id, e.redaction_pending);
CREATE INDEX state_room IF NOT EXISTS FOR (s:State) ON (s.room_id);
CREATE INDEX extremity_room IF NOT EXISTS FOR (e:Extremity) ON (e.room_id);
DROP CONSTRAINT current_state_unique IF EXISTS;
DROP INDEX current_state_member_server IF EXISTS;
CREATE CONSTRAINT server_keys_unique IF NOT EXISTS FOR (k:ServerKeys) REQUIRE k.server_name IS UNIQUE;
