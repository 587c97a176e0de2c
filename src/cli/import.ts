/**
 * npm run import -- FILE.jsonl ...   (or standard input when no file is named)
 * Imports federation PDUs, one per line, into the room graph; reports bad lines with their number, a progress
 * line on stderr for long imports and a summary at the end.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Importer, type ImportSummary } from '../importer/importer';
import { EventStore } from '../store/event-store';
import { applySchema } from '../store/neo4j';
import { connectGraph } from './connect';

async function main(): Promise<void> {
  const files = process.argv.slice(2);
  const { graph, close } = await connectGraph();
  try {
    await applySchema(graph);
    const summary = await importSources(new EventStore(graph), files);
    process.stderr.write(`${describe(summary)}\n`);
    if (summary.skipped > 0) process.exitCode = 1;
  } finally {
    await close();
  }
}

export async function importSources(store: EventStore, files: readonly string[]): Promise<ImportSummary> {
  let lastProgress = Date.now();
  const importer = new Importer(store, {
    onProblem: (problem) => process.stderr.write(`${problem.at}: ${problem.severity}: ${problem.message}\n`),
    onProgress: (summary) => {
      if (Date.now() - lastProgress < 2000) return;
      lastProgress = Date.now();
      process.stderr.write(`... ${summary.stored + summary.unchanged} events, ${rate(summary)} events/s\n`);
    },
  });
  const sources = files.length > 0 ? files : ['-'];
  for (const file of sources) {
    const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
    const lines = createInterface({ input, crlfDelay: Infinity });
    await importer.importLines(lines, file === '-' ? 'stdin' : file);
  }
  return importer.finish();
}

export function describe(summary: ImportSummary): string {
  return (
    `Imported ${summary.stored} new events (${summary.unchanged} already stored) in ${summary.rooms} rooms; ` +
    `${summary.skipped} lines skipped, ${summary.hashMismatches} stored redacted for a content hash mismatch; ` +
    `${summary.seconds.toFixed(1)} s, ${rate(summary)} events/s`
  );
}

function rate(summary: ImportSummary): number {
  return Math.round((summary.stored + summary.unchanged) / Math.max(summary.seconds, 0.001));
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`import failed: ${error.message}\n`);
    process.exit(1);
  });
}
