/**
 * A Graph (driver + database) for integration tests, on the Neo4j chosen by global-setup, with the schema
 * applied; and a way to import rooms built with the RoomBuilder through the real importer.
 */
import { Importer, type ImportProblem, type ImportSummary } from '../../src/importer/importer';
import { EventStore } from '../../src/store/event-store';
import { applySchema, type Graph } from '../../src/store/neo4j';
import type { BuiltEvent } from '../../src/generator/room-builder';
import { openTestDriver, testNeo4j } from './neo4j';

export async function openTestGraph(): Promise<Graph> {
  const driver = await openTestDriver();
  const graph: Graph = { driver, database: testNeo4j().database };
  await applySchema(graph);
  return graph;
}

export interface ImportResult {
  readonly summary: ImportSummary;
  readonly problems: ImportProblem[];
}

/** Imports lines (PDU JSON strings or built events) as one source named `name`. */
export async function importLines(
  graph: Graph,
  lines: readonly (string | BuiltEvent)[],
  name = 'test',
  batchSize?: number,
): Promise<ImportResult> {
  const problems: ImportProblem[] = [];
  const importer = new Importer(new EventStore(graph), { onProblem: (p) => problems.push(p), batchSize });
  await importer.importLines(
    lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line.pdu))),
    name,
  );
  return { summary: await importer.finish(), problems };
}
