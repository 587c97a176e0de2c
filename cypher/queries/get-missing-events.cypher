// Analyst query: exactly what a get_missing_events call returns, in the same order.
// The events a get_missing_events call with these parameters returns, in its order (oldest first: depth,
// origin_server_ts, event_id), as cypher/walk.cypher walks for the endpoint: breadth-first back through prev_events
// from the prev_events of $latest_events (which are never returned); an event in $earliest_events or below
// $min_depth is neither returned nor walked past, nor is a placeholder or an event of another room; at most $limit
// events are found, level by level (where the last level holds more than the limit leaves room for, greater depth
// wins, then the smaller event_id); a rejected event is walked through and counts towards the limit but is not
// returned. History visibility does not change which events are sent, only whether they go out redacted, so it is
// not shown here; nor is the check that the caller may read the room at all. Give $limit as the endpoint uses it:
// the request's limit (10 when absent) clamped to MISSING_EVENTS_MAX_LIMIT (20 unless configured otherwise).
// $latest_events null: the room's newest event with a known state, neither rejected nor soft-failed. A latest event
// of another room gives a row saying so (in the event_id column) instead of a walk: the endpoint would not start
// from it, and the walk would quietly find nothing.
// Returns: event_id, depth, origin_server_ts, type, sender, level (1: a prev event of a latest event, 2: of those...).
// Parameters: $room_id, $latest_events (null for the room's newest event), $earliest_events (lists of event IDs),
//   $limit, $min_depth (integers).
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
//   :param latest_events => null
//   :param earliest_events => []
//   :param limit => 10
//   :param min_depth => 0
MATCH (given:Event)
WHERE given.event_id IN coalesce($latest_events, []) AND given.room_id <> $room_id
RETURN 'event ' + given.event_id + ' is in room ' + given.room_id + ', not ' + $room_id
         + ' (set latest_events to null for this room\'s newest event)' AS event_id,
       null AS depth, null AS origin_server_ts, null AS type, null AS sender, null AS level
UNION ALL
WITH coalesce($latest_events, COLLECT {
  MATCH (newest:Event {room_id: $room_id})
  WHERE newest.state_after IS NOT NULL AND NOT newest:Rejected AND NOT newest:SoftFailed
  RETURN newest.event_id ORDER BY newest.depth DESC, newest.event_id DESC LIMIT 1
}) AS latest_events
WHERE NOT EXISTS { MATCH (given:Event) WHERE given.event_id IN latest_events AND given.room_id <> $room_id }
OPTIONAL MATCH (latest:Event)
  WHERE latest.event_id IN latest_events AND latest.room_id = $room_id AND NOT latest:Placeholder
    AND latest.depth >= $min_depth AND NOT latest.event_id IN $earliest_events
WITH collect(latest) AS start
WITH reduce(walk = {frontier: start, seen: start, found: []}, level IN range(1, $limit) |
  CASE WHEN size(walk.found) >= $limit OR size(walk.frontier) = 0 THEN walk ELSE
    [next IN [COLLECT {
        UNWIND walk.frontier AS node
        MATCH (node)-[:PREV_EVENT]->(prev:Event)
        WHERE prev.room_id = $room_id AND NOT prev:Placeholder AND prev.depth >= $min_depth
          AND NOT prev.event_id IN $earliest_events
        WITH DISTINCT prev WHERE NOT prev IN walk.seen
        RETURN prev }] |
      {frontier: next, seen: walk.seen + next, found: walk.found + [event IN next | {event: event, level: level}]}][0]
  END) AS walk
UNWIND walk.found AS found
WITH found ORDER BY found.level, found.event.depth DESC, found.event.event_id LIMIT $limit
WITH found.event AS event, found.level AS level
WHERE NOT event:Rejected
RETURN event.event_id AS event_id, event.depth AS depth, event.origin_server_ts AS origin_server_ts, event.type AS type,
       event.sender AS sender, level
ORDER BY depth, origin_server_ts, event_id
