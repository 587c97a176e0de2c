// Analyst query: the shortest path between two events through prev_events.
// When one event descends from the other, the path follows PREV_EVENT from the newer to the older; otherwise it
// is the shortest way through edges taken either way (up to a common ancestor and down again). No row when they
// are not connected (a gap cuts every way) or are the same event.
// Returns: direction ('from_event is newer' | 'from_event is older' | 'neither descends from the other'), hops,
//   event_ids (along the path, from $from_event to $to_event), path (to draw in Neo4j Browser, as Neo4j found it:
//   from the newer event when one descends from the other).
// Parameters: $from_event, $to_event (event IDs).
//   :param from_event => '$newer...'
//   :param to_event => '$older...'
MATCH (from:Event {event_id: $from_event}), (to:Event {event_id: $to_event})
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
