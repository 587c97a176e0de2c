// Stores the key responses that hold a server's keys, replacing those stored unless they were fetched later (two
// instances of this service may fetch the same server's keys at once; the newer set stays). fetched_ts is kept for
// that comparison only: the key fetcher never reads it as a reason not to fetch.
// Returns: nothing. Parameters: $server_name (string), $key_json (the latest response as a JSON string),
//   $earlier_json (a JSON list of {fetched_ts, response}), $fetched_ts (integer, milliseconds: when key_json was
//   fetched), $valid_until_ts (integer or null, informational).
MERGE (keys:ServerKeys {server_name: $server_name})
WITH keys
WHERE keys.fetched_ts IS NULL OR keys.fetched_ts <= $fetched_ts
SET keys.key_json = $key_json, keys.earlier_json = $earlier_json, keys.fetched_ts = $fetched_ts,
    keys.valid_until_ts = $valid_until_ts
