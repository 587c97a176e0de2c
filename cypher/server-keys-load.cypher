// The last key response stored for a server: its own GET /_matrix/key/v2/server, or a notary's answer for it.
// Returns: at most one row: key_json (the response as a JSON string), fetched_ts, valid_until_ts (integers,
//   milliseconds; valid_until_ts is already capped at fetched_ts + 7 days). Parameters: $server_name (string).
MATCH (keys:ServerKeys {server_name: $server_name})
RETURN keys.key_json AS key_json, keys.fetched_ts AS fetched_ts, keys.valid_until_ts AS valid_until_ts
