/**
 * A first load of a large export into an empty database with Neo4j's bulk importer: the importer computes every
 * event's state as it always does, into CSV files (src/importer/bulk-files.ts) instead of the graph; the local Neo4j
 * is stopped, `neo4j-admin database import full` loads the files, Neo4j starts again, and the state lists the files
 * cannot hold and each room's current state are written through Cypher. The result is the graph `maxtryx import`
 * makes of the same lines, node for node (test/integration/bulk-import.test.ts).
 *
 * neo4j-admin replaces the whole database, so the load refuses a database that holds anything unless told to
 * replace it. It needs the project's local Neo4j (scripts/neo4j.mjs), whose home and jars it uses.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runSteps, type ProgressOptions } from '../progress';
import { EventStore } from '../store/event-store';
import { loadCypher } from '../store/cypher-files';
import { applySchema, openGraph, readTx, rows, type Graph } from '../store/neo4j';
import { neo4jScript, type LocalNeo4jInfo } from '../store/local-neo4j';
import { StateStore } from '../store/state-store';
import { BulkFiles } from './bulk-files';
import { importLineSources, type LineSource } from './import-files';
import { Importer, type ImportSummary } from './importer';

const QUERIES = loadCypher(['database-node-count']);

/** States whose lists are set per transaction after the load. */
const STATE_BATCH = 2000;

export interface BulkLoadOptions {
  readonly sources: readonly LineSource[];
  /** The local Neo4j's home directory (scripts/neo4j.mjs's .neo4j by default). */
  readonly home?: string;
  /** Replace a database that holds nodes (every room in it is lost). */
  readonly replace: boolean;
  /** Where the CSV files are written (a new directory in it, deleted after the load). */
  readonly workDir: string;
  /** Events per batch (the importer's default when absent). */
  readonly batchSize?: number;
  readonly progress?: ProgressOptions;
  readonly log?: (line: string) => void;
}

/** Seconds spent in each phase. */
export interface BulkLoadTimes {
  /** Reading the lines, computing states and writing the CSV files. */
  readonly files: number;
  /** neo4j-admin database import, stopping Neo4j before and starting it after. */
  readonly load: number;
  /** The constraints and indexes (schema.cypher), built on the loaded nodes. */
  readonly schema: number;
  /** The state lists the files cannot hold, through Cypher. */
  readonly states: number;
  /** Each room's current state (and the soft-failed extremities). */
  readonly rooms: number;
}

export class DatabaseNotEmptyError extends Error {
  override readonly name = 'DatabaseNotEmptyError';
}

export async function bulkLoad(options: BulkLoadOptions): Promise<{ summary: ImportSummary; times: BulkLoadTimes; neo4j: LocalNeo4jInfo }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const script = await neo4jScript();
  const home = options.home ?? script.DEFAULT_HOME;
  const before = await script.ensureNeo4j({ home, log });
  await withGraph(before, async (graph) => {
    const [count] = await readTx(graph, (tx) => rows<{ nodes: number; rooms: number }>(tx, QUERIES['database-node-count'], {}));
    if (count !== undefined && count.nodes > 0 && !options.replace) {
      throw new DatabaseNotEmptyError(
        `The database holds ${count.nodes} nodes (${count.rooms} rooms). A bulk import replaces the whole database: ` +
          'use `maxtryx import` without --bulk to add rooms to it, or --replace to replace everything in it.',
      );
    }
  });

  await mkdir(options.workDir, { recursive: true });
  const dir = await mkdtemp(join(options.workDir, 'bulk-'));
  try {
    const started = Date.now();
    const files = await BulkFiles.create(dir);
    const computed = await importLineSources(files, options.sources, options.progress, options.batchSize);
    const fileSet = await files.close();
    const filesDone = Date.now();

    let after: LocalNeo4jInfo | undefined;
    let graph: Graph | undefined;
    let settled: ImportSummary | undefined;
    const marks: number[] = [];
    try {
      await runSteps(
        [
          {
            title: 'Loading the files with neo4j-admin database import',
            run: async () => {
              try {
                await script.stopNeo4j({ home, log });
                await script.adminImport({ home, ...fileSet, log });
              } finally {
                // Started again even when the load failed, on the ports it had.
                after = await script.ensureNeo4j({ home, boltPort: before.boltPort, httpPort: before.httpPort, guidePort: before.guidePort, log });
              }
              graph = openGraph({ uri: after.uri, user: after.user, password: after.password });
              marks.push(Date.now());
            },
          },
          {
            title: 'Building the constraints and indexes',
            run: async () => {
              await applySchema(graph!);
              marks.push(Date.now());
            },
          },
          {
            title: `Setting the lists of ${files.listFixes.length} states`,
            run: async (report) => {
              const states = new StateStore(graph!);
              for (let i = 0; i < files.listFixes.length; i += STATE_BATCH) {
                await states.setLists(files.listFixes.slice(i, i + STATE_BATCH));
                report({ text: `${Math.min(i + STATE_BATCH, files.listFixes.length)} of ${files.listFixes.length} states`, fraction: i / files.listFixes.length });
              }
              marks.push(Date.now());
            },
          },
          {
            title: `Settling ${files.roomIds.length} rooms' current state`,
            run: async () => {
              settled = await new Importer(new EventStore(graph!)).settle(files.roomIds);
              marks.push(Date.now());
            },
          },
        ],
        options.progress,
      );
    } finally {
      await graph?.driver.close();
    }
    const [loaded, indexed, stated, done] = marks as [number, number, number, number];
    const summary: ImportSummary = {
      ...computed,
      rejected: computed.rejected + settled!.rejected,
      softFailed: settled!.softFailed,
      statePending: settled!.statePending,
      seconds: (done - started) / 1000,
    };
    const seconds = (from: number, to: number) => (to - from) / 1000;
    return {
      summary,
      times: {
        files: seconds(started, filesDone), load: seconds(filesDone, loaded), schema: seconds(loaded, indexed),
        states: seconds(indexed, stated), rooms: seconds(stated, done),
      },
      neo4j: after!,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function withGraph<T>(neo4j: LocalNeo4jInfo, work: (graph: Graph) => Promise<T>): Promise<T> {
  const graph = openGraph({ uri: neo4j.uri, user: neo4j.user, password: neo4j.password });
  try {
    return await work(graph);
  } finally {
    await graph.driver.close();
  }
}
