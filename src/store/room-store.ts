/** What authorizing a server for a room needs, read from the summary of the room's current state in one query. */
import { isObject } from '../core/json';
import type { RoomAccessFacts } from '../core/room-access';
import { loadCypher } from './cypher-files';
import { type Graph, readTx, rows } from './neo4j';

const QUERIES = loadCypher(['room-access']);

export class RoomStore {
  constructor(private readonly graph: Graph) {}

  /** The facts about `roomId` for `origin`, or undefined when the room is unknown. */
  async access(roomId: string, origin: string): Promise<RoomAccessFacts | undefined> {
    const [row] = await readTx(this.graph, (tx) => rows<AccessRow>(tx, QUERIES['room-access'], { room_id: roomId, origin }));
    if (row === undefined) return undefined;
    return {
      room_id: roomId,
      room_version: row.room_version,
      create_sender: row.create_sender,
      create_content: contentOf(row.create_pdu),
      acl_content: contentOf(row.acl_pdu),
      history_visibility: row.history_visibility,
      origin_joined: row.origin_joined,
    };
  }
}

interface AccessRow extends Record<string, unknown> {
  room_version: string;
  create_sender: string | null;
  create_pdu: string | null;
  acl_pdu: string | null;
  history_visibility: string | null;
  origin_joined: boolean;
}

function contentOf(pdu: string | null): unknown {
  if (pdu === null) return null;
  const parsed: unknown = JSON.parse(pdu);
  return isObject(parsed) ? parsed.content : null;
}
