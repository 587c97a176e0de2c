/**
 * npm run generate -- --events N --room-version V --seed S --out FILE [--servers K] [--history-visibility H]
 *   [--conflicts]
 * Writes a real signed room as JSON lines to FILE and its servers' keys to FILE.keys.json. --conflicts weaves
 * forks whose branches change the same state into the room (src/generator/conflict-scenarios.ts).
 */
import { parseArgs } from 'node:util';
import type { GenerateOptions } from '../generator/generate-room';
import { writeRoom } from '../generator/write-room';
import { getRoomVersion } from '../core/room-versions';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000' },
      'room-version': { type: 'string', default: '10' },
      seed: { type: 'string', default: 'maxtryx' },
      out: { type: 'string' },
      servers: { type: 'string', default: '4' },
      'history-visibility': { type: 'string', default: 'shared' },
      conflicts: { type: 'boolean', default: false },
    },
  });
  const events = Number(values.events);
  const servers = Number(values.servers);
  if (!Number.isInteger(events) || events < 1) fail(`--events must be a positive integer, not "${values.events}"`);
  if (!Number.isInteger(servers) || servers < 1) fail(`--servers must be a positive integer, not "${values.servers}"`);
  if (getRoomVersion(values['room-version']!) === undefined) fail(`--room-version ${values['room-version']} is not a room version 1-12`);
  if (values.conflicts && servers < 2) fail(`--conflicts needs --servers 2 or more, not ${servers}`);
  if (!values.out) fail('--out FILE is required');
  const options: GenerateOptions = {
    events,
    roomVersion: values['room-version']!,
    seed: values.seed!,
    servers,
    historyVisibility: values['history-visibility']!,
    conflicts: values.conflicts!,
  };
  const path = await writeRoom(options, values.out!);
  process.stderr.write(`Wrote ${events} events to ${values.out} and the servers' keys to ${path}\n`);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

if (require.main === module) {
  main().catch((error: Error) => fail(error.message));
}
