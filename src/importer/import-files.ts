/**
 * Imports sources of PDU lines (JSON-lines files, standard input named "-", a Synapse database) through the
 * Importer, reporting problems and progress on stderr. Shared by the import CLI, npm start's demo room and the
 * benchmarks.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
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
  /** Its size in bytes, when known (a file): the number of events is estimated from the bytes an event so far. */
  readonly bytes?: number;
  /** Its number of events, when known before they are all read (a Synapse database counts its rows first). */
  readonly events?: () => number | undefined;
  /** Whether the source gave this event redacted itself (Synapse redacted it), so its content hash cannot match. */
  readonly redactedBySource?: (eventId: string) => boolean;
  /** How the source says so, in the per-room summary: "redacted by Synapse, stored as such". */
  readonly redactedBySourceText?: string;
}

/** A source whose first lines are none of them JSON: it is not JSON lines (a binary file, a database). */
export class NotJsonLinesError extends Error {
  override readonly name = 'NotJsonLinesError';
}

/** The lines read before a source none of whose lines is JSON is given up on. */
export const NOT_JSON_LINES_LIMIT = 5;

/** The first 16 bytes of every SQLite 3 database file (https://www.sqlite.org/fileformat.html#the_database_header). */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Whether the file starts as an SQLite database does (a Synapse homeserver.db). */
export function isSqliteFile(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(SQLITE_HEADER.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(SQLITE_HEADER);
  } catch {
    return false; // A missing or unreadable file fails later with its own error.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** What to say about a file that is an SQLite database: the option that imports one. */
export function sqliteFileMessage(file: string): string {
  return `${file} is an SQLite database, not JSON lines: to import a Synapse database, use --from-synapse ${file}`;
}

/** A JSON-lines file, or standard input for "-". */
export function fileSource(file: string): LineSource {
  if (file === '-') return { name: 'stdin', open: () => ({ lines: createInterface({ input: process.stdin, crlfDelay: Infinity }) }) };
  return {
    name: file,
    open: () => {
      if (isSqliteFile(file)) throw new NotJsonLinesError(sqliteFileMessage(file));
      const bytes = statSync(file).size;
      return { lines: createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity }), bytes };
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

/** What has been read of the source being imported, for its progress. */
export interface Reading {
  readonly source: OpenedSource;
  /** Events done (stored, unchanged or skipped) before this source began. */
  readonly before: number;
  lines: number;
  bytes: number;
  notJson: number;
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
  let reading: Reading | undefined;
  let done = 0;
  /** Per room, the events its source redacted (reported once, at the end) and how the source says so. */
  const redactedBySource = new Map<string, { count: number; text: string }>();
  const importer = new Importer(target, {
    batchSize,
    onProblem: (problem) => {
      if (reading !== undefined && /^not (JSON|a JSON object)/.test(problem.message)) reading.notJson += 1;
      process.stderr.write(`${problem.at}: ${problem.severity}: ${problem.message}\n`);
    },
    onHashMismatch: ({ at, eventId, roomId }) => {
      const source = reading?.source;
      if (source?.redactedBySource?.(eventId) === true) {
        const room = redactedBySource.get(roomId) ?? { count: 0, text: source.redactedBySourceText ?? 'redacted by the source, stored as such' };
        room.count += 1;
        redactedBySource.set(roomId, room);
      } else {
        process.stderr.write(`${at}: warning: content hash of ${eventId} does not match; stored redacted\n`);
      }
    },
    onProgress: (summary) => {
      done = summary.stored + summary.unchanged + summary.skipped;
      report(progressOf(summary, done, reading));
    },
  });
  let summary: ImportSummary | undefined;
  await runSteps(
    [
      ...sources.map((source) => ({
        title: `Importing ${source.name}`,
        run: async (stepReport: Report) => {
          report = stepReport;
          const opened = source.open();
          const current: Reading = { source: opened, before: done, lines: 0, bytes: 0, notJson: 0 };
          reading = current;
          await importer.importLines(counted(opened.lines, current, source.name), source.name);
        },
      })),
      // The events still waiting for their room's version, pending states and each room's current state.
      // Its last batch is written here, so the importer's last progress reports belong to this step.
      {
        title: target instanceof EventStore ? 'Settling room states' : 'Writing the last events',
        run: async (stepReport: Report) => {
          report = stepReport;
          reading = undefined;
          summary = await importer.finish();
        },
      },
    ],
    progress,
  );
  for (const [roomId, { count, text }] of redactedBySource) {
    process.stderr.write(`${roomId}: ${count} ${count === 1 ? 'event' : 'events'} ${text}\n`);
  }
  return summary!;
}

/**
 * The lines as they are read, counted (and their bytes, to estimate the events of a file); stops a source whose
 * first NOT_JSON_LINES_LIMIT lines are none of them JSON, rather than report every line of a binary file.
 */
async function* counted(lines: AsyncIterable<string> | Iterable<string>, reading: Reading, name: string): AsyncIterable<string> {
  for await (const line of lines) {
    if (line.trim().length > 0) reading.lines += 1;
    reading.bytes += Buffer.byteLength(line, 'utf8') + 1;
    yield line;
    if (reading.notJson >= NOT_JSON_LINES_LIMIT && reading.notJson === reading.lines) {
      throw new NotJsonLinesError(
        `${name}: the first ${reading.notJson} lines are not JSON objects, so this is not a JSON-lines file of PDUs` +
          ' (a Synapse database is imported with --from-synapse DATABASE)',
      );
    }
  }
}

/** "94,000 of ~100,000 events, 6,100 events/s, ETA 1 s", and the fraction done, when the source's size is known. */
export function progressOf(summary: ImportSummary, done: number, reading: Reading | undefined): { text: string; fraction?: number } {
  const speed = rate(summary);
  const total = reading === undefined ? undefined : expectedEvents(reading);
  if (reading === undefined || total === undefined) return { text: `${count(summary.stored + summary.unchanged)} events, ${count(speed)} events/s` };
  const ofSource = Math.max(0, done - reading.before);
  const expected = Math.max(total.events, ofSource);
  const eta = speed > 0 ? ` ETA ${duration((expected - ofSource) / speed)}` : '';
  return {
    text: `${count(ofSource)} of ${total.estimated ? '~' : ''}${count(expected)} events, ${count(speed)} events/s,${eta}`,
    fraction: expected === 0 ? 1 : ofSource / expected,
  };
}

/** The source's events: counted by the source, or estimated from a file's size and the bytes a line so far. */
function expectedEvents(reading: Reading): { events: number; estimated: boolean } | undefined {
  const counted = reading.source.events?.();
  if (counted !== undefined) return { events: counted, estimated: false };
  const { bytes } = reading.source;
  if (bytes === undefined || reading.lines === 0) return undefined;
  if (reading.bytes >= bytes) return { events: reading.lines, estimated: false };
  return { events: Math.round(reading.lines + (bytes - reading.bytes) / (reading.bytes / reading.lines)), estimated: true };
}

/** 1 s, 42 s, 3 min 05 s, 1 h 02 min. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
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
