/**
 * npm run import -- FILE.jsonl ...   (or standard input when no file is named)
 * Imports federation PDUs, one per line, into the room graph; reports bad lines with their number, a progress
 * line on stderr for long imports and a summary at the end.
 */
import { describe, importSources } from '../importer/import-files';
import { EventStore } from '../store/event-store';
import { applySchema } from '../store/neo4j';
import { loadConfig } from '../config';
import { connectGraph } from '../store/connect';

async function main(): Promise<void> {
  const files = process.argv.slice(2);
  const { graph, close } = await connectGraph(loadConfig(process.env).neo4j);
  try {
    await applySchema(graph);
    const summary = await importSources(new EventStore(graph), files);
    process.stderr.write(`${describe(summary)}\n`);
    if (summary.skipped > 0) process.exitCode = 1;
  } finally {
    await close();
  }
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`import failed: ${error.message}\n`);
    process.exit(1);
  });
}
