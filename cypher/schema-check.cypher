// Whether the room graph's schema is in place (schema.cypher applied): the service is ready only then.
// Returns: one row, `found` (how many of the schema's constraints exist; 3 when applied). Parameters: none.
SHOW CONSTRAINTS YIELD name
WHERE name IN ['room_id_unique', 'event_id_unique', 'state_id_unique']
RETURN count(*) AS found
