/** What authorizing a server for a room needs, read from the room's current state in one query. */
import type { RoomAccessFacts } from '../core/room-access';
import { loadCypher } from './cypher-files';
import { type Graph, readTx, rows } from './neo4j';

const QUERIES = loadCypher(['room-access']);

export class RoomStore {
  constructor(private readonly graph: Graph) {}

  /** The facts about `roomId` for `origin`, or undefined when the room is unknown. */
  async access(roomId: string, origin: string): Promise<RoomAccessFacts | undefined> {
    const [row] = await readTx(this.graph, (tx) =>
      rows<Omit<RoomAccessFacts, 'room_id'>>(tx, QUERIES['room-access'], { room_id: roomId, origin }),
    );
    return row === undefined ? undefined : { room_id: roomId, ...row };
  }
}
