/**
 * npm run generate -- --events N --room-version V --seed S --out FILE [--servers K] [--history-visibility H]
 *   [--conflicts]
 * Writes a real signed room as JSON lines to FILE and its servers' keys to FILE.keys.json. --conflicts weaves
 * forks whose branches change the same state into the room (src/generator/conflict-scenarios.ts).
 */
import { Command, InvalidArgumentError } from 'commander';
import { getRoomVersion } from '../core/room-versions';
import type { GenerateOptions } from '../generator/generate-room';
import { writeRoom } from '../generator/write-room';
import { runSteps, type ProgressOptions } from '../progress';
import { integerOption, runProgram, UsageError } from './command';

export interface GenerateCommandOptions extends GenerateOptions {
  readonly out: string;
  readonly progress?: ProgressOptions;
}

/** Writes the room and its keys; returns the line that says where. */
export async function runGenerate(options: GenerateCommandOptions): Promise<string> {
  const { out, progress, ...room } = options;
  if (room.conflicts && (room.servers ?? 4) < 2) throw new UsageError(`--conflicts needs --servers 2 or more, not ${room.servers}`);
  let keysPath = '';
  await runSteps(
    [{
      title: `Generating ${room.events} events into ${out}`,
      run: async (report) => {
        keysPath = await writeRoom(room, out, (written) => report({ text: `${written} events`, fraction: written / room.events }));
      },
    }],
    progress,
  );
  return `Wrote ${room.events} events to ${out} and the servers' keys to ${keysPath}`;
}

function roomVersion(value: string): string {
  if (getRoomVersion(value) === undefined) throw new InvalidArgumentError('not a room version 1-12.');
  return value;
}

export function generateCommand(): Command {
  return new Command('generate')
    .description('write a real signed room as JSON lines, and its servers\' keys to FILE.keys.json')
    .requiredOption('--out <file>', 'where to write the room')
    .option('--events <n>', 'how many events', integerOption(1), 1000)
    .option('--room-version <version>', 'room version 1-12', roomVersion, '10')
    .option('--seed <seed>', 'the same seed gives the same room', 'maxtryx')
    .option('--servers <k>', 'how many servers the members come from', integerOption(1), 4)
    .option('--history-visibility <visibility>', 'the room\'s m.room.history_visibility', 'shared')
    .option('--conflicts', 'weave forks whose branches change the same state into the room, and end it with a rejected, a soft-failed and a missing event (needs --servers 2+)', false)
    .action(async (options: { out: string; events: number; roomVersion: string; seed: string; servers: number; historyVisibility: string; conflicts: boolean }) => {
      // --conflicts also ends the room with a rejected, a soft-failed and a missing event, as real rooms hold.
      process.stderr.write(`${await runGenerate({ ...options, irregular: options.conflicts })}\n`);
    });
}

if (require.main === module) void runProgram(generateCommand());
