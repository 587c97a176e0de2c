// Analyst query: the shortest path between two events through prev_events.
// When one event descends from the other, the path follows PREV_EVENT from the newer to the older; otherwise it
// is the shortest way through edges taken either way (up to a common ancestor and down again). No row when they
// are not connected (a gap cuts every way) or are the same event. $from_event null: the room's newest event with a
// known state, neither rejected nor soft-failed; $to_event null: the oldest event at most 5 prev_events back from
// $from_event. An event of another room gives a row saying so (in the direction column) instead of a path;
// $room_id null: both events' own room, unchecked.
// Returns: direction ('from_event is newer' | 'from_event is older' | 'neither descends from the other'), hops,
//   event_ids (along the path, from $from_event to $to_event), path (to draw in Neo4j Browser, as Neo4j found it:
//   from the newer event when one descends from the other).
// Parameters: $room_id, $from_event, $to_event (event IDs, or null as above).
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
//   :param from_event => null
//   :param to_event => null
MATCH (given:Event)
WHERE given.event_id IN [$from_event, $to_event] AND given.room_id <> $room_id
RETURN 'event ' + given.event_id + ' is in room ' + given.room_id + ', not ' + $room_id
         + ' (set from_event and to_event to null for events of this room)' AS direction,
       null AS hops, null AS event_ids, null AS path
UNION ALL
WITH coalesce($from_event, head(COLLECT {
  MATCH (newest:Event {room_id: $room_id})
  WHERE newest.state_after IS NOT NULL AND NOT newest:Rejected AND NOT newest:SoftFailed
  RETURN newest.event_id ORDER BY newest.depth DESC, newest.event_id DESC LIMIT 1
})) AS from_id
MATCH (from:Event {event_id: from_id})
WITH from, coalesce($to_event, head(COLLECT {
  MATCH (from)-[:PREV_EVENT]->{1,5}(older:Event)
  WHERE NOT older:Placeholder
  RETURN older.event_id ORDER BY older.depth, older.event_id LIMIT 1
})) AS to_id
MATCH (to:Event {event_id: to_id})
WHERE $room_id IS NULL OR (from.room_id = $room_id AND to.room_id = $room_id)
OPTIONAL MATCH down = SHORTEST 1 (from)-[:PREV_EVENT]->+(to)
OPTIONAL MATCH up = SHORTEST 1 (to)-[:PREV_EVENT]->+(from)
WITH from, to, down, up
OPTIONAL MATCH either = SHORTEST 1 (from)-[:PREV_EVENT]-+(to)
WITH CASE WHEN down IS NOT NULL THEN 'from_event is newer' WHEN up IS NOT NULL THEN 'from_event is older'
          ELSE 'neither descends from the other' END AS direction,
     coalesce(down, up, either) AS path, up IS NOT NULL AND down IS NULL AS reversed
WHERE path IS NOT NULL
WITH direction, path, [event IN nodes(path) | event.event_id] AS ids, reversed
RETURN direction, length(path) AS hops, CASE WHEN reversed THEN reverse(ids) ELSE ids END AS event_ids, path
