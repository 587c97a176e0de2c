/**
 * npm run import -- FILE.jsonl ...   (or standard input when no file is named)
 * npm run import -- --from-synapse DATABASE [--room ROOM_ID ...]
 * npm run import -- --bulk [--replace] [--neo4j-home DIR] FILE.jsonl ...   (a first load, with neo4j-admin)
 * Imports federation PDUs into the room graph: JSON lines, one PDU a line, or the rooms of a Synapse database (an
 * SQLite file or a postgres:// URL) as Synapse sends them over federation. Reports bad lines with their number,
 * progress on stderr and a summary at the end; exits with 1 when a line was skipped.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config';
import { bulkLoad } from '../importer/bulk-load';
import { describe, fileSources, importLineSources, importSources, isSqliteFile, NotJsonLinesError, sqliteFileMessage, type LineSource } from '../importer/import-files';
import { PROJECT_ROOT } from '../paths';
import { synapsePduLines } from '../importer/synapse-source';
import type { ProgressOptions } from '../progress';
import { connectGraph } from '../store/connect';
import { EventStore } from '../store/event-store';
import { applySchema } from '../store/neo4j';
import { collect, integerOption, runProgram, UsageError } from './command';

export interface ImportOptions {
  readonly files: readonly string[];
  /** A Synapse database to read the rooms from, instead of files. */
  readonly fromSynapse?: string;
  /** The rooms to take from the Synapse database; all of them when empty. */
  readonly rooms: readonly string[];
  readonly progress?: ProgressOptions;
  /** A first load with neo4j-admin database import into the local Neo4j (src/importer/bulk-load.ts). */
  readonly bulk?: { readonly replace: boolean; readonly home?: string };
  /** Events written per transaction (or per bulk batch); the importer's default when absent. */
  readonly batchSize?: number;
}

/** Imports into the configured Neo4j; returns the summary line and whether a line was skipped. */
export async function runImport(options: ImportOptions): Promise<{ summary: string; skipped: number }> {
  if (options.fromSynapse !== undefined && options.files.length > 0) {
    throw new UsageError('Give files or --from-synapse DATABASE, not both');
  }
  if (options.fromSynapse === undefined && options.rooms.length > 0) throw new UsageError('--room needs --from-synapse DATABASE');
  // Before Neo4j is started: a Synapse homeserver.db named as a file would only give thousands of "not JSON" lines.
  const database = options.files.find((file) => file !== '-' && isSqliteFile(file));
  if (database !== undefined) throw new UsageError(sqliteFileMessage(database));
  try {
    return await importInto(options);
  } catch (error) {
    // A file that turned out not to be JSON lines: the wrong file or the wrong option, a usage error.
    if (error instanceof NotJsonLinesError) throw new UsageError(error.message);
    throw error;
  }
}

async function importInto(options: ImportOptions): Promise<{ summary: string; skipped: number }> {
  if (options.bulk !== undefined) return runBulkImport(options, options.bulk);
  const { graph, close } = await connectGraph(loadConfig(process.env).neo4j);
  try {
    await applySchema(graph);
    const store = new EventStore(graph);
    const summary =
      options.fromSynapse === undefined
        ? await importSources(store, options.files, options.progress, options.batchSize)
        : await importLineSources(store, [synapseSource(options.fromSynapse, options.rooms)], options.progress, options.batchSize);
    return { summary: describe(summary), skipped: summary.skipped };
  } finally {
    await close();
  }
}

async function runBulkImport(options: ImportOptions, bulk: NonNullable<ImportOptions['bulk']>): Promise<{ summary: string; skipped: number }> {
  if (process.env.NEO4J_URI) {
    throw new UsageError(
      `--bulk loads the project's local Neo4j (it stops it, runs neo4j-admin database import in its home and starts it ` +
        `again), but NEO4J_URI is set (${process.env.NEO4J_URI}): unset it, or import without --bulk`,
    );
  }
  const sources =
    options.fromSynapse === undefined
      ? fileSources(options.files)
      : [synapseSource(options.fromSynapse, options.rooms)];
  const { summary, times, neo4j } = await bulkLoad({
    sources, replace: bulk.replace, home: bulk.home, workDir: join(PROJECT_ROOT, '.data'), progress: options.progress,
    batchSize: options.batchSize,
  });
  const phases = Object.entries(times).map(([phase, seconds]) => `${phase} ${seconds.toFixed(1)} s`).join(', ');
  return { summary: `${describe(summary)} (${phases}); Neo4j: ${neo4j.uri}`, skipped: summary.skipped };
}

export function synapseSource(database: string, rooms: readonly string[]): LineSource {
  const name = rooms.length === 0 ? `every room of ${database}` : rooms.length === 1 ? `${rooms[0]} from ${database}` : `${rooms.length} rooms from ${database}`;
  return {
    name,
    open: () => {
      let events: number | undefined;
      // Synapse gives a redacted event pruned, so its content hash cannot match: a redaction, not a damaged event.
      const redacted = new Set<string>();
      return {
        lines: synapsePduLines(database, rooms, {
          onSkip: (eventId, reason) => process.stderr.write(`${database}: ${eventId}: skipped: ${reason}\n`),
          onRedacted: (eventId) => redacted.add(eventId),
          onTotal: (total) => (events = total),
        }),
        events: () => events,
        redactedBySource: (eventId) => redacted.has(eventId),
        redactedBySourceText: 'redacted by Synapse, stored as such',
      };
    },
  };
}

export function importCommand(): Command {
  return new Command('import')
    .description('import federation PDUs (JSON lines, or a Synapse database) into the room graph')
    .argument('[files...]', 'JSON-lines files, one PDU a line; standard input when none (or "-")')
    .option('--from-synapse <database>', "read the rooms from a Synapse database: an SQLite file or a postgres:// URL")
    .option('--room <room_id>', 'with --from-synapse: a room to import (repeatable; all rooms when absent)', collect, [])
    .option('--bulk', "a first load into the local Neo4j's empty database with neo4j-admin database import (stops and starts it)")
    .option('--replace', 'with --bulk: replace everything the database holds')
    .option('--neo4j-home <dir>', 'with --bulk: the local Neo4j home (default .neo4j)')
    .option('--batch-size <n>', 'events written at once (default 2000)', integerOption(1))
    .action(async (files: string[], options: { fromSynapse?: string; room: string[]; bulk?: boolean; replace?: boolean; neo4jHome?: string; batchSize?: number }) => {
      if (options.bulk !== true && (options.replace === true || options.neo4jHome !== undefined)) {
        throw new UsageError('--replace and --neo4j-home go with --bulk');
      }
      const bulk = options.bulk === true ? { replace: options.replace === true, home: options.neo4jHome } : undefined;
      const { summary, skipped } = await runImport({ files, fromSynapse: options.fromSynapse, rooms: options.room, bulk, batchSize: options.batchSize });
      process.stderr.write(`${summary}\n`);
      if (skipped > 0) process.exitCode = 1;
    });
}

if (require.main === module) void runProgram(importCommand());
