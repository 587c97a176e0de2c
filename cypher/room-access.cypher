// What deciding whether a server may read a room needs, from the summary of the room's current state: the room's
// version, its create event, server ACL and history visibility, and whether the server has a joined member.
// Returns: one row (room_version, create_sender, create_pdu, acl_pdu, history_visibility, origin_joined), or no
//   row for an unknown room; the state fields are null when the room's current state is not known yet.
//   Parameters: $room_id, $origin.
MATCH (room:Room {room_id: $room_id})
OPTIONAL MATCH (room)-[:CURRENT_STATE]->(state:State)
OPTIONAL MATCH (create:Event {event_id: state.create_event_id})
OPTIONAL MATCH (acl:Event {event_id: state.server_acl_event_id})
RETURN room.room_version AS room_version, create.sender AS create_sender, create.pdu AS create_pdu,
       acl.pdu AS acl_pdu, state.history_visibility AS history_visibility,
       coalesce($origin IN state.joined_servers, false) AS origin_joined
