// Analyst query: a histogram of a room's events by depth.
// How a room's stored events spread over depths, in buckets of $bucket depths: how long the DAG is and where it is
// wide (many events at one depth: forks, or servers sending at once). Placeholders have no depth and are not
// counted.
// Returns: depth_from, depth_to, events, widest (most events at one depth in the bucket), bar (events, scaled to
//   40 characters at the fullest bucket).
// Parameters: $room_id, $bucket (integer, 1 for one row per depth).
//   :param room_id => '!oSaQpRQVcSGZGamJdd:hs1.test'
//   :param bucket => 10
MATCH (event:Event {room_id: $room_id})
WHERE NOT event:Placeholder
WITH event.depth AS depth, count(*) AS at_depth
WITH (depth - 1) / $bucket AS bucket, sum(at_depth) AS events, max(at_depth) AS widest
ORDER BY bucket
WITH collect({bucket: bucket, events: events, widest: widest}) AS rows, max(events) AS fullest
UNWIND rows AS row
RETURN row.bucket * $bucket + 1 AS depth_from, (row.bucket + 1) * $bucket AS depth_to, row.events AS events,
       row.widest AS widest,
       reduce(bar = '', i IN range(1, toInteger(ceil(40.0 * row.events / fullest))) | bar + '#') AS bar
ORDER BY depth_from
