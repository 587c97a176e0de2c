// Sets a follower's position in one Synapse database, in the transaction that stores the events it covers
// (src/follow/), and adds the rooms those events belong to to the rooms to settle.
// Returns: nothing.
// Parameters: $source (the database's name), $forward and $backward (stream orderings), $rooms (room IDs), $now (ms).
MERGE (cursor:FollowCursor {source: $source})
SET cursor.forward = $forward,
    cursor.backward = $backward,
    cursor.unsettled = coalesce(cursor.unsettled, []) + [room IN $rooms WHERE NOT room IN coalesce(cursor.unsettled, [])],
    cursor.updated_ts = $now
