/**
 * npm run request -- --room ROOM --latest ID [--latest ID ...] [--earliest ID ...] [--limit N] [--min-depth N]
 *                    --as SERVER_NAME [--keys FILE.keys.json] [--url URL] [--destination SERVER_NAME]
 * Signs a get_missing_events request with a generated server's key (X-Matrix) and prints the answer.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { signRequest } from '../core/x-matrix';
import { readKeysFile } from '../generator/keys-file';
import { PROJECT_ROOT } from '../paths';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      room: { type: 'string' },
      latest: { type: 'string', multiple: true, default: [] },
      earliest: { type: 'string', multiple: true, default: [] },
      limit: { type: 'string' },
      'min-depth': { type: 'string' },
      as: { type: 'string' },
      keys: { type: 'string', default: join(PROJECT_ROOT, '.data', 'demo-room.jsonl.keys.json') },
      url: { type: 'string' },
      destination: { type: 'string' },
    },
  });
  const config = loadConfig(process.env);
  const keys = readKeysFile(values.keys!);
  const origin = values.as ?? fail(`--as SERVER_NAME is required: one of ${[...keys.servers.keys()].join(', ')}`);
  const key = keys.servers.get(origin) ?? fail(`${values.keys} has no key for ${origin}`);
  const room = values.room ?? keys.room_id;
  const content: Record<string, unknown> = { latest_events: values.latest, earliest_events: values.earliest };
  if (values.limit !== undefined) content.limit = integer('--limit', values.limit);
  if (values['min-depth'] !== undefined) content.min_depth = integer('--min-depth', values['min-depth']);
  const uri = `/_matrix/federation/v1/get_missing_events/${encodeURIComponent(room)}`;
  const destination = values.destination ?? config.serverName;
  const base = values.url ?? `http://${config.host}:${config.port}`;
  const authorization = signRequest({ method: 'POST', uri, origin, destination, content, key });
  const response = await fetch(`${base}${uri}`, {
    method: 'POST',
    headers: { Authorization: authorization, 'Content-Type': 'application/json' },
    body: JSON.stringify(content),
  });
  const text = await response.text();
  process.stderr.write(`HTTP ${response.status}\n`);
  try {
    process.stdout.write(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
  } catch {
    process.stdout.write(`${text}\n`);
  }
  if (!response.ok) process.exitCode = 1;
}

function integer(flag: string, text: string): number {
  const value = Number(text);
  return Number.isInteger(value) ? value : fail(`${flag} must be an integer, not "${text}"`);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

main().catch((error: Error) => fail(`request failed: ${error.message}`));
