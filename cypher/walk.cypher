// The get_missing_events walk: breadth-first back through PREV_EVENT from the prev_events of $latest_events.
// Returns: `pdu` (the PDU string as imported), at most $limit rows, oldest first (depth, origin_server_ts, event_id),
// and for history visibility, from the summary of the state after each event: `state_known`, `history_visibility`,
// `server_joined` and `server_invited` (whether $origin has a joined or invited user then).
// A rejected event is walked through but not returned (the limit counts it, as in Synapse, which drops rejected
// events from the events its walk found).
// Parameters: $room_id (string), $latest_events, $earliest_events (lists of event IDs), $min_depth, $limit (integers),
//   $origin (the server asking).
//
// One level per iteration of reduce(), at most $limit iterations, and an iteration only expands the frontier it
// was handed, so the work depends on $limit and the DAG's width, never on the size of the room. An event is
// walked past only if it is of this room, imported (not a placeholder), not in $earliest_events and not below
// $min_depth; those are also exactly the events that may be returned. $latest_events start the walk but are
// never returned. Where the last level holds more than the remaining limit, greater depth wins, then the
// smaller event_id.
OPTIONAL MATCH (latest:Event)
  WHERE latest.event_id IN $latest_events AND latest.room_id = $room_id AND NOT latest:Placeholder
    AND latest.depth >= $min_depth AND NOT latest.event_id IN $earliest_events
WITH collect(latest) AS start
WITH reduce(walk = {frontier: start, seen: start, found: []}, level IN range(1, $limit) |
  CASE WHEN size(walk.found) >= $limit OR size(walk.frontier) = 0 THEN walk ELSE
    [next IN [reduce(acc = [], prevs IN [node IN walk.frontier |
        [(node)-[:PREV_EVENT]->(prev:Event)
          WHERE prev.room_id = $room_id AND NOT prev:Placeholder AND prev.depth >= $min_depth
            AND NOT prev.event_id IN $earliest_events | prev]] |
        acc + [prev IN prevs WHERE NOT prev IN acc AND NOT prev IN walk.seen])] |
      {frontier: next, seen: walk.seen + next, found: walk.found + [event IN next | {event: event, level: level}]}][0]
  END) AS walk
UNWIND walk.found AS found
WITH found ORDER BY found.level, found.event.depth DESC, found.event.event_id LIMIT $limit
WITH found.event AS event WHERE NOT event:Rejected
OPTIONAL MATCH (state:State {state_id: event.state_after})
WITH event, state ORDER BY event.depth, event.origin_server_ts, event.event_id
RETURN event.pdu AS pdu, state IS NOT NULL AS state_known, state.history_visibility AS history_visibility,
       coalesce($origin IN state.joined_servers, false) AS server_joined,
       coalesce($origin IN state.invited_servers, false) AS server_invited
