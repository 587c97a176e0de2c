// get_missing_events in one query: what deciding whether a server may read the room needs (from the summary of the
// room's current state), and the breadth-first walk back through PREV_EVENT from the prev_events of
// latest_events, with what history visibility needs of each event found. One round trip per request, and one for
// several: $requests is a list of walks, each answered in a row of its own (`index`: its position in the list), as
// if it ran alone. Walks waiting for a connection go out together (src/store/walk-batching.ts): on 64 walks in
// flight, batches of 8 cost Neo4j 0.35 ms and node 0.14 ms a walk, against 0.65 and 0.35 one query each.
// Nothing returned depends on `origin` except `walked`, so requests from several servers asking the same walk at
// once share one run of this query (src/store/walk-sharing.ts) and each applies its own origin to the rows.
// Returns: one row per request, `index` and: room_version and the rest null for an unknown room:
//   room_version, create_sender, create_event_id, create_pdu, acl_event_id, acl_pdu, acl_redacted, history_visibility,
//   joined_servers (the room-access facts from the current state; null while the current state is not known),
//   `walked`: whether the walk ran (see below), and
//   `events`: at most `limit` maps {pdu, redacted, state_id}, oldest first (depth, origin_server_ts, event_id): `pdu`
//   as imported, `redacted` whether a redaction applies to it (label Redacted: the caller serves it pruned;
//   `acl_redacted` the same for the ACL event), `state_id` the summary of the state after the event (null while
//   it is not known); and
//   `states`: each of those summaries once, {state_id, history_visibility, joined_servers, invited_servers}, the
//   server lists only where history visibility reads them ('joined' reads joined servers, 'invited' both; empty
//   otherwise, so a big room under 'shared' sends no lists); and
//   `latest_not_held`: the entries of latest_events that are not an event of this room held whole (unknown,
//   another room's, or only a placeholder), each once: the caller does not answer such a request from this graph
//   when it has a homeserver to pass it to (src/http/pass-through.ts); and
//   `room_settling`: whether a follower (src/follow/) has stored events of this room whose effect on the room's
//   current state is not computed yet (a second at most): room access read now may lag the events, so a caller
//   that can pass a request on does so rather than refuse it from a current state that is behind.
// The walk runs only when `origin` could be allowed at all (a joined member, a world_readable room, or no `origin`:
// analysts, benchmarks and shared walks whose first caller was allowed); the server ACL, m.federate and the other
// callers' membership are checked by the caller, which drops the events when they deny an origin.
// A rejected event is walked through but not returned (the limit counts it, as in Synapse, which drops rejected
// events from the events its walk found).
// Parameters: $requests, a list of maps {index, room_id (string), latest_events, earliest_events (lists of event IDs),
//   min_depth, limit (integers), origin (the server asking first, or null)}.
//
// One level per iteration of reduce(), at most `limit` iterations, and an iteration only expands the frontier it
// was handed, so the work depends on `limit` and the DAG's width, never on the size of the room. An event is
// walked past only if it is of this room, imported (not a placeholder), not in earliest_events and not below
// min_depth; those are also exactly the events that may be returned. latest_events start the walk but are
// never returned. Where the last level holds more than the remaining limit, greater depth wins, then the
// smaller event_id.
// A level is the DISTINCT prev events of the frontier less those seen (the start and the events found so far,
// fewer than `limit`): hashed de-duplication, so its cost grows with the level's width times that bounded list,
// where comparing each prev event with the level built so far grew with the square of the width (8,000 wide:
// 983 ms, now 131 ms; src/bench/wide-level-bench.ts).
// The plan is pinned to seek the latest events by event_id (USING INDEX SEEK) and to expand each frontier node's
// PREV_EVENT relationships (a pattern comprehension): on a database with few rooms the planner preferred the
// (room_id, depth) index for both, reading every event of the room at each level (a 2,000-event room made by
// Synapse: 246,000 database hits and 38 ms of Neo4j CPU for a walk of 10, where expanding costs a few hundred).
// LIMIT takes no variable, so each walk is cut at its own limit inside reduce(): every level is taken whole while it
// fits, and the level that does not fit is ordered (depth, then event_id) and sliced; the events found are then at
// most `limit`, and no aggregation needs the request (grouped by it, a walk that found nothing would yield no row).
// The same database hits as the single walk's ORDER BY ... LIMIT over every event found (567 on average for a walk
// of 20 from the 40 newest events of the 100k bench room) and the same Neo4j CPU for a batch of one.
UNWIND $requests AS request
CALL (request) {
  OPTIONAL MATCH (room:Room {room_id: request.room_id})
  OPTIONAL MATCH (room)-[:CURRENT_STATE]->(current:State)
  OPTIONAL MATCH (create:Event {event_id: current.create_event_id})
  OPTIONAL MATCH (acl:Event {event_id: current.server_acl_event_id})
  WITH request, room, current, create, acl,
       request.origin IS NULL OR coalesce(request.origin IN current.joined_servers, false)
         OR current.history_visibility = 'world_readable' AS may_walk
  CALL (request, may_walk) {
    OPTIONAL MATCH (latest:Event) USING INDEX SEEK latest:Event(event_id)
      WHERE may_walk AND latest.event_id IN request.latest_events AND latest.room_id = request.room_id
        AND NOT latest:Placeholder AND latest.depth >= request.min_depth AND NOT latest.event_id IN request.earliest_events
    WITH request, collect(latest) AS start
    WITH request, reduce(walk = {frontier: start, seen: start, found: []}, level IN range(1, request.limit) |
      CASE WHEN size(walk.found) >= request.limit OR size(walk.frontier) = 0 THEN walk ELSE
        [next IN [COLLECT {
            UNWIND walk.frontier AS node
            UNWIND [(node)-[:PREV_EVENT]->(prev:Event) | prev] AS prev
            WITH prev WHERE prev.room_id = request.room_id AND NOT prev:Placeholder AND prev.depth >= request.min_depth
              AND NOT prev.event_id IN request.earliest_events
            WITH DISTINCT prev WHERE NOT prev IN walk.seen
            RETURN prev }] |
          {frontier: next, seen: walk.seen + next,
           found: walk.found + CASE WHEN size(walk.found) + size(next) <= request.limit THEN next
                    ELSE COLLECT { UNWIND next AS event WITH event ORDER BY event.depth DESC, event.event_id RETURN event }
                           [..request.limit - size(walk.found)] END}][0]
      END) AS walk
    UNWIND walk.found AS event
    WITH event WHERE NOT event:Rejected
    OPTIONAL MATCH (state:State {state_id: event.state_after})
    WITH event, state ORDER BY event.depth, event.origin_server_ts, event.event_id
    WITH collect({pdu: event.pdu, redacted: event:Redacted, state_id: state.state_id}) AS events,
         collect(DISTINCT state) AS states
    RETURN events,
           [state IN states | {state_id: state.state_id, history_visibility: state.history_visibility,
              joined_servers: CASE WHEN state.history_visibility IN ['joined', 'invited']
                                   THEN coalesce(state.joined_servers, []) ELSE [] END,
              invited_servers: CASE WHEN state.history_visibility = 'invited'
                                    THEN coalesce(state.invited_servers, []) ELSE [] END}] AS states
  }
  CALL (request) {
    UNWIND request.latest_events AS latest_id
    OPTIONAL MATCH (held:Event {event_id: latest_id}) USING INDEX SEEK held:Event(event_id)
      WHERE held.room_id = request.room_id AND NOT held:Placeholder
    WITH latest_id, held WHERE held IS NULL
    RETURN collect(DISTINCT latest_id) AS latest_not_held
  }
  RETURN room.room_version AS room_version, create.sender AS create_sender, create.event_id AS create_event_id,
         create.pdu AS create_pdu, acl.event_id AS acl_event_id, acl.pdu AS acl_pdu, acl:Redacted AS acl_redacted,
         current.history_visibility AS history_visibility, current.joined_servers AS joined_servers, may_walk AS walked,
         events, states, latest_not_held,
         EXISTS { MATCH (cursor:FollowCursor) WHERE request.room_id IN cursor.unsettled } AS room_settling
}
RETURN request.index AS index, room_version, create_sender, create_event_id, create_pdu, acl_event_id, acl_pdu,
       acl_redacted, history_visibility, joined_servers, walked, events, states, latest_not_held, room_settling
