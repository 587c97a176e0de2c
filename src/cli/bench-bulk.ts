/**
 * npm run bench -- bulk [--events 1000000] [--room-version 10]
 * A first load of a generated room (made once, not timed, and kept in .data/bench) into an empty database, two
 * ways, one after the other in this process: Neo4j's bulk importer (`maxtryx import --bulk`,
 * src/importer/bulk-load.ts) and the graph importer (`maxtryx import`), each into a throw-away local Neo4j of its
 * own with the development server's settings. Prints each one's events/s, the bulk load's phases and the ratio.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { freePorts } from '../free-ports';
import { writeRoom } from '../generator/write-room';
import { bulkLoad } from '../importer/bulk-load';
import { describe, fileSources, importSources } from '../importer/import-files';
import type { ImportSummary } from '../importer/importer';
import { EventStore } from '../store/event-store';
import { neo4jScript, type LocalNeo4jInfo } from '../store/local-neo4j';
import { applySchema, openGraph } from '../store/neo4j';

export async function benchBulk(options: { events: number; roomVersion: string; dir: string }): Promise<void> {
  const file = join(options.dir, `bulk-${options.events}-v${options.roomVersion}.jsonl`);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${options.events} events (not timed)\n`);
    // The shape of the other benchmarks' rooms (forks and merges, members joining over time). Not --conflicts: its
    // server-leave-rejoin and membership scenarios grow with the member count, so a 1M-event room made with it is
    // mostly membership changes (55% of the first 100,000 events, rising), unlike the other benchmarks' rooms.
    await writeRoom({ events: options.events, roomVersion: options.roomVersion, seed: file }, file);
  }
  console.log(`room: ${file} (${options.events} events, room version ${options.roomVersion})`);
  const bulk = await withThrowAwayNeo4j(options.dir, 'bulk', async (neo4j) => {
    const { summary, times } = await bulkLoad({ sources: fileSources([file]), home: neo4j.home, replace: false, workDir: options.dir });
    // neo4j-admin's own account of its stages, kept after the home is deleted.
    await copyFile(join(neo4j.home, 'logs', 'admin-import.log'), join(options.dir, 'admin-import.log'));
    return { summary, phases: Object.entries(times).map(([phase, seconds]) => `${phase} ${seconds.toFixed(1)} s`).join(', ') };
  });
  console.log(`import --bulk: ${describe(bulk.summary)}`);
  console.log(`  phases: ${bulk.phases} (neo4j-admin's log: ${join(options.dir, 'admin-import.log')})`);
  const graphImport = await withThrowAwayNeo4j(options.dir, 'graph', async (neo4j) => {
    const graph = openGraph({ uri: neo4j.uri });
    try {
      await applySchema(graph);
      return { summary: await importSources(new EventStore(graph), [file]) };
    } finally {
      await graph.driver.close();
    }
  });
  const rate = (summary: ImportSummary) => (summary.stored + summary.unchanged) / summary.seconds;
  console.log(`import:        ${describe(graphImport.summary)}`);
  console.log(`bulk / graph importer: ${(rate(bulk.summary) / rate(graphImport.summary)).toFixed(2)}x events/s`);
}

/** Runs `work` with a local Neo4j of its own on free ports, in a new home under `dir`, deleted afterwards. */
async function withThrowAwayNeo4j<T>(dir: string, name: string, work: (neo4j: LocalNeo4jInfo) => Promise<T>): Promise<T> {
  const script = await neo4jScript();
  const home = await mkdtemp(join(dir, `neo4j-${name}-`));
  const [boltPort, httpPort, guidePort] = await freePorts(3);
  try {
    return await work(await script.ensureNeo4j({ home, boltPort, httpPort, guidePort }));
  } finally {
    await script.stopNeo4j({ home });
    await rm(home, { recursive: true, force: true });
  }
}
