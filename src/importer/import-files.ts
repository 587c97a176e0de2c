/**
 * Imports sources of PDU lines (JSON-lines files, standard input named "-", a Synapse database) through the
 * Importer, reporting problems and progress on stderr. Shared by the import CLI, npm start's demo room and the
 * benchmarks.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runSteps, type ProgressOptions, type Report } from '../progress';
import { Importer, type ImportSink, type ImportSummary } from './importer';
import { EventStore } from '../store/event-store';

export interface LineSource {
  /** Where the lines come from, in problems' `name:line` and in progress: a file name, "stdin". */
  readonly name: string;
  /** Opened only when its turn comes, so a later file that is missing fails after the earlier ones are in. */
  open(): OpenedSource;
}

export interface OpenedSource {
  readonly lines: AsyncIterable<string> | Iterable<string>;
  /** How much has been read, 0 to 1, when the size is known (a file). */
  readonly fraction?: () => number;
}

/** A JSON-lines file, or standard input for "-". */
export function fileSource(file: string): LineSource {
  if (file === '-') return { name: 'stdin', open: () => ({ lines: createInterface({ input: process.stdin, crlfDelay: Infinity }) }) };
  return {
    name: file,
    open: () => {
      const size = statSync(file).size;
      const input = createReadStream(file, { encoding: 'utf8' });
      return { lines: createInterface({ input, crlfDelay: Infinity }), fraction: () => (size === 0 ? 1 : input.bytesRead / size) };
    },
  };
}

/** Imports the files (standard input when none is named). */
export async function importSources(store: EventStore, files: readonly string[], progress: ProgressOptions = {}, batchSize?: number): Promise<ImportSummary> {
  return importLineSources(store, fileSources(files), progress, batchSize);
}

/** The files as sources; standard input when none is named. */
export function fileSources(files: readonly string[]): LineSource[] {
  return (files.length > 0 ? files : ['-']).map(fileSource);
}

/**
 * Imports the sources one after the other into one Importer, then settles the rooms' states (on the graph; a
 * sink of files is settled once the graph holds them).
 */
export async function importLineSources(
  target: EventStore | ImportSink,
  sources: readonly LineSource[],
  progress: ProgressOptions = {},
  batchSize?: number,
): Promise<ImportSummary> {
  let report: Report = () => {};
  let fraction: (() => number) | undefined;
  const importer = new Importer(target, {
    batchSize,
    onProblem: (problem) => process.stderr.write(`${problem.at}: ${problem.severity}: ${problem.message}\n`),
    onProgress: (summary) => report({ text: `${summary.stored + summary.unchanged} events, ${rate(summary)} events/s`, fraction: fraction?.() }),
  });
  let summary: ImportSummary | undefined;
  await runSteps(
    [
      ...sources.map((source) => ({
        title: `Importing ${source.name}`,
        run: async (stepReport: Report) => {
          report = stepReport;
          const opened = source.open();
          fraction = opened.fraction;
          await importer.importLines(opened.lines, source.name);
        },
      })),
      // The events still waiting for their room's version, pending states and each room's current state.
      // Its last batch is written here, so the importer's last progress reports belong to this step.
      {
        title: target instanceof EventStore ? 'Settling room states' : 'Writing the last events',
        run: async (stepReport: Report) => {
          report = stepReport;
          fraction = undefined;
          summary = await importer.finish();
        },
      },
    ],
    progress,
  );
  return summary!;
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
