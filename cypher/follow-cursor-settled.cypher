// Removes rooms from a follower's rooms to settle, once their pending states and current state are computed.
// Returns: nothing.
// Parameters: $source (the database's name), $rooms (room IDs settled).
MATCH (cursor:FollowCursor {source: $source})
SET cursor.unsettled = [room IN coalesce(cursor.unsettled, []) WHERE NOT room IN $rooms]
