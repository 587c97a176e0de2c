/**
 * npm run import -- FILE.jsonl ...   (or standard input when no file is named)
 * npm run import -- --from-synapse DATABASE [--room ROOM_ID ...]
 * Imports federation PDUs into the room graph: JSON lines, one PDU a line, or the rooms of a Synapse database (an
 * SQLite file or a postgres:// URL) as Synapse sends them over federation. Reports bad lines with their number,
 * progress on stderr and a summary at the end; exits with 1 when a line was skipped.
 */
import { Command } from 'commander';
import { loadConfig } from '../config';
import { describe, importLineSources, importSources, type LineSource } from '../importer/import-files';
import { synapsePduLines } from '../importer/synapse-source';
import type { ProgressOptions } from '../progress';
import { connectGraph } from '../store/connect';
import { EventStore } from '../store/event-store';
import { applySchema } from '../store/neo4j';
import { collect, runProgram, UsageError } from './command';

export interface ImportOptions {
  readonly files: readonly string[];
  /** A Synapse database to read the rooms from, instead of files. */
  readonly fromSynapse?: string;
  /** The rooms to take from the Synapse database; all of them when empty. */
  readonly rooms: readonly string[];
  readonly progress?: ProgressOptions;
}

/** Imports into the configured Neo4j; returns the summary line and whether a line was skipped. */
export async function runImport(options: ImportOptions): Promise<{ summary: string; skipped: number }> {
  if (options.fromSynapse !== undefined && options.files.length > 0) {
    throw new UsageError('Give files or --from-synapse DATABASE, not both');
  }
  if (options.fromSynapse === undefined && options.rooms.length > 0) throw new UsageError('--room needs --from-synapse DATABASE');
  const { graph, close } = await connectGraph(loadConfig(process.env).neo4j);
  try {
    await applySchema(graph);
    const store = new EventStore(graph);
    const summary =
      options.fromSynapse === undefined
        ? await importSources(store, options.files, options.progress)
        : await importLineSources(store, [synapseSource(options.fromSynapse, options.rooms)], options.progress);
    return { summary: describe(summary), skipped: summary.skipped };
  } finally {
    await close();
  }
}

function synapseSource(database: string, rooms: readonly string[]): LineSource {
  const name = rooms.length === 1 ? `${rooms[0]} from ${database}` : `${rooms.length || 'every'} rooms from ${database}`;
  return {
    name,
    open: () => ({
      lines: synapsePduLines(database, rooms, {
        onSkip: (eventId, reason) => process.stderr.write(`${database}: ${eventId}: skipped: ${reason}\n`),
      }),
    }),
  };
}

export function importCommand(): Command {
  return new Command('import')
    .description('import federation PDUs (JSON lines, or a Synapse database) into the room graph')
    .argument('[files...]', 'JSON-lines files, one PDU a line; standard input when none (or "-")')
    .option('--from-synapse <database>', "read the rooms from a Synapse database: an SQLite file or a postgres:// URL")
    .option('--room <room_id>', 'with --from-synapse: a room to import (repeatable; all rooms when absent)', collect, [])
    .action(async (files: string[], options: { fromSynapse?: string; room: string[] }) => {
      const { summary, skipped } = await runImport({ files, fromSynapse: options.fromSynapse, rooms: options.room });
      process.stderr.write(`${summary}\n`);
      if (skipped > 0) process.exitCode = 1;
    });
}

if (require.main === module) void runProgram(importCommand());
