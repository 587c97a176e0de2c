/**
 * A follower's position per Synapse database, as one `(:FollowCursor {source})` node: saved in the transaction of
 * the import batch it covers (Importer.commit), so after a crash the graph and the position agree.
 */
import type { ManagedTransaction } from 'neo4j-driver';
import type { FollowPosition } from '../follow/follow-position';
import { loadCypher } from './cypher-files';
import { type Graph, int, plain, readTx, rows, writeTx } from './neo4j';

const QUERIES = loadCypher(['follow-cursor-load', 'follow-cursor-save', 'follow-cursor-settled']);

export interface StoredFollowCursor {
  readonly position: FollowPosition;
  /** Rooms that got events since they were last settled. */
  readonly unsettled: readonly string[];
}

export class FollowCursorStore {
  constructor(
    private readonly graph: Graph,
    readonly source: string,
  ) {}

  async load(): Promise<StoredFollowCursor | undefined> {
    const [row] = await readTx(this.graph, (tx) => rows(tx, QUERIES['follow-cursor-load'], { source: this.source }));
    if (row === undefined) return undefined;
    const value = plain(row) as { forward: number; backward: number; unsettled: string[] };
    return { position: { forward: Number(value.forward), backward: Number(value.backward) }, unsettled: value.unsettled };
  }

  /** The write that goes into an import batch's transaction. */
  save(position: FollowPosition, rooms: readonly string[], now: number): (tx: ManagedTransaction) => Promise<void> {
    return async (tx) => {
      await tx.run(QUERIES['follow-cursor-save'], {
        source: this.source,
        forward: int(position.forward),
        backward: int(position.backward),
        rooms,
        now: int(now),
      });
    };
  }

  async settled(rooms: readonly string[]): Promise<void> {
    if (rooms.length === 0) return;
    await writeTx(this.graph, (tx) => tx.run(QUERIES['follow-cursor-settled'], { source: this.source, rooms }));
  }
}
