/**
 * A room's graph as sorted lines, one per node (labels, properties) and per relationship (its ends' keys, type,
 * properties): two imports of the same room, into one database or two, leave equal lists exactly when they leave
 * the same graph, whatever the element IDs (the import crash test, the bulk import test).
 */
import { stable } from '../../src/fuzz/graph-fingerprint';
import { loadCypher } from '../../src/store/cypher-files';
import { plain, readTx, rows, type Graph } from '../../src/store/neo4j';

const QUERIES = loadCypher(['ops/room-nodes', 'ops/room-relationships']);

/**
 * One line per node (labels, properties) and per relationship (its ends' keys, type, properties) of the room, sorted:
 * equal lists mean equal graphs, whatever the element IDs.
 */
export async function roomFingerprint(graph: Graph, roomId: string): Promise<string[]> {
  return readTx(graph, async (tx) => {
    const nodes = await rows<{ labels: string[]; properties: Record<string, unknown> }>(tx, QUERIES['ops/room-nodes'], { room_id: roomId });
    const relationships = await rows<{ start: string; type: string; end: string; properties: Record<string, unknown> }>(
      tx,
      QUERIES['ops/room-relationships'],
      { room_id: roomId },
    );
    return [
      ...nodes.map((n) => `N ${[...n.labels].sort().join(':')} ${stable(plain(n.properties))}`),
      ...relationships.map((r) => `R ${r.start} ${r.type} ${r.end} ${stable(plain(r.properties))}`),
    ].sort();
  });
}

/** What one sorted list has that the other has not (as many times as it has it more), each line cut to 400 characters. */
export function difference(a: readonly string[], b: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of b) counts.set(line, (counts.get(line) ?? 0) + 1);
  const extra: string[] = [];
  for (const line of a) {
    const left = counts.get(line) ?? 0;
    if (left > 0) counts.set(line, left - 1);
    else extra.push(line.length > 400 ? `${line.slice(0, 400)}...` : line);
  }
  return extra;
}

/** How many lines of each kind: node label sets and relationship types. */
export function census(lines: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) {
    const [kind, first, second] = line.split(' ');
    const key = kind === 'N' ? `N ${first}` : `R ${second}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

