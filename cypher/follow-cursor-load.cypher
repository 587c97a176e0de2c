// A follower's position in one Synapse database (src/follow/): every event of the database's events stream with
// backward < stream_ordering <= forward is in the graph; the rooms whose current state may be stale (events were
// committed for them but the room was not settled since).
// Returns: forward, backward, unsettled (a list of room IDs); no row when the source was never followed.
// Parameters: $source, the database's name (its PostgreSQL URL without user and password).
MATCH (cursor:FollowCursor {source: $source})
RETURN cursor.forward AS forward, cursor.backward AS backward, coalesce(cursor.unsettled, []) AS unsettled
