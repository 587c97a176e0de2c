/**
 * A fingerprint of everything stored: node and relationship counts and a SHA-256 over every node's labels and
 * properties and every relationship's ends, type and properties, in a fixed order. Equal before and after a run
 * of requests means no request changed the stored data.
 */
import { createHash } from 'node:crypto';
import { loadCypher } from '../store/cypher-files';
import { plain, readTx, rows, writeTx, type Graph } from '../store/neo4j';

const QUERIES = loadCypher(['fuzz/graph-nodes', 'fuzz/graph-relationships', 'fuzz/room-delete']);

export interface GraphFingerprint {
  readonly nodes: number;
  readonly relationships: number;
  readonly sha256: string;
}

export async function graphFingerprint(graph: Graph): Promise<GraphFingerprint> {
  return readTx(graph, async (tx) => {
    const nodes = await rows<{ id: string; labels: string[]; properties: Record<string, unknown> }>(tx, QUERIES['fuzz/graph-nodes'], {});
    const relationships = await rows<{ start: string; type: string; end: string; properties: Record<string, unknown> }>(
      tx,
      QUERIES['fuzz/graph-relationships'],
      {},
    );
    const lines = [
      ...nodes.map((n) => `N ${n.id} ${[...n.labels].sort().join(':')} ${stable(plain(n.properties))}`),
      ...relationships.map((r) => `R ${r.start} ${r.type} ${r.end} ${stable(plain(r.properties))}`),
    ].sort();
    const hash = createHash('sha256');
    for (const line of lines) hash.update(line).update('\n');
    return { nodes: nodes.length, relationships: relationships.length, sha256: hash.digest('hex') };
  });
}

/** Removes a room the importer fuzz made. */
export async function deleteRoom(graph: Graph, roomId: string): Promise<void> {
  await writeTx(graph, (tx) => tx.run(QUERIES['fuzz/room-delete'], { room_id: roomId }));
}

/** JSON with object keys sorted, so equal properties give equal text whatever order Neo4j returns them in. */
export function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stable(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}
