/**
 * Imports JSON-lines files (or standard input, named "-") through the Importer, reporting problems and progress
 * on stderr. Shared by the import CLI, npm start's demo room and the benchmarks.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Importer, type ImportSummary } from './importer';
import type { EventStore } from '../store/event-store';

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
    `${summary.rejected} rejected, ${summary.softFailed} soft-failed, ${summary.statePending} waiting for missing events; ` +
    `${summary.seconds.toFixed(1)} s, ${rate(summary)} events/s`
  );
}

function rate(summary: ImportSummary): number {
  return Math.round((summary.stored + summary.unchanged) / Math.max(summary.seconds, 0.001));
}
