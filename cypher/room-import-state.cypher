// How far a room's import got: how many of its events are stored (placeholders aside) and whether its current
// state was settled (the importer's last step). npm start finishes a demo import that stopped between the two.
// Returns: events (integer), settled (boolean); no row for an unknown room. Parameters: $room_id.
MATCH (room:Room {room_id: $room_id})
RETURN COUNT { (event:Event)-[:IN_ROOM]->(room) WHERE NOT event:Placeholder } AS events,
       EXISTS { (room)-[:CURRENT_STATE]->(:State) } AS settled
