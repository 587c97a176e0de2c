// What deciding whether a server may read a room needs: the room's version, its current server ACL, history
// visibility and create event, and whether the server has a joined member in the current state.
// Returns: one row (room_version, create_sender, create_content, acl_content, history_visibility_content,
//   origin_joined), or no row for an unknown room. Parameters: $room_id, $origin.
MATCH (room:Room {room_id: $room_id})
OPTIONAL MATCH (create:CurrentState {room_id: $room_id, type: 'm.room.create', state_key: ''})
OPTIONAL MATCH (acl:CurrentState {room_id: $room_id, type: 'm.room.server_acl', state_key: ''})
OPTIONAL MATCH (visibility:CurrentState {room_id: $room_id, type: 'm.room.history_visibility', state_key: ''})
RETURN room.room_version AS room_version, create.sender AS create_sender, create.content AS create_content,
       acl.content AS acl_content, visibility.content AS history_visibility_content,
       EXISTS {
         MATCH (member:CurrentState {room_id: $room_id, member_server: $origin, membership: 'join'})
       } AS origin_joined
