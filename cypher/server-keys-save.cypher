// Stores a server's key response, replacing the one stored unless that one was fetched later (two instances of
// this service may fetch the same server's keys at once; the newer answer stays).
// Returns: nothing. Parameters: $server_name (string), $key_json (the response as a JSON string), $fetched_ts,
//   $valid_until_ts (integers, milliseconds).
MERGE (keys:ServerKeys {server_name: $server_name})
WITH keys
WHERE keys.fetched_ts IS NULL OR keys.fetched_ts <= $fetched_ts
SET keys.key_json = $key_json, keys.fetched_ts = $fetched_ts, keys.valid_until_ts = $valid_until_ts
