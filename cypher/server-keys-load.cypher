// The key responses stored for a server: its own GET /_matrix/key/v2/server answers and notaries' answers for it,
// those that hold the keys the key fetcher uses.
// Returns: at most one row: key_json (the latest response, a JSON string), earlier_json (a JSON list of
//   {fetched_ts, response}, or null), fetched_ts (integer, milliseconds: when key_json was fetched),
//   valid_until_ts (integer or null, informational). Parameters: $server_name (string).
MATCH (keys:ServerKeys {server_name: $server_name})
RETURN keys.key_json AS key_json, keys.earlier_json AS earlier_json, keys.fetched_ts AS fetched_ts,
       keys.valid_until_ts AS valid_until_ts
