/**
 * npm run request -- --room ROOM --latest ID [--latest ID ...] [--earliest ID ...] [--limit N] [--min-depth N]
 *                    --as SERVER_NAME [--keys FILE.keys.json] [--url URL] [--destination SERVER_NAME]
 * Signs a get_missing_events request with a generated server's key (X-Matrix) and prints the answer.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config';
import { signRequest } from '../core/x-matrix';
import { readKeysFile } from '../generator/keys-file';
import { PROJECT_ROOT } from '../paths';
import { collect, integerOption, runProgram, UsageError } from './command';

export interface RequestOptions {
  /** The room; the keys file's room when absent. */
  readonly room?: string;
  readonly latest: readonly string[];
  readonly earliest: readonly string[];
  readonly limit?: number;
  readonly minDepth?: number;
  /** The server whose key signs the request: one of the keys file's servers. */
  readonly as?: string;
  readonly keys: string;
  /** The service's base URL; http://HOST:PORT from the configuration when absent. */
  readonly url?: string;
  /** The server the request is for; SERVER_NAME from the configuration when absent. */
  readonly destination?: string;
}

export interface RequestAnswer {
  readonly status: number;
  /** The answer, indented when it is JSON. */
  readonly body: string;
}

export async function runRequest(options: RequestOptions): Promise<RequestAnswer> {
  const config = loadConfig(process.env);
  const keys = readKeysFile(options.keys);
  if (options.as === undefined) throw new UsageError(`--as SERVER_NAME is required: one of ${[...keys.servers.keys()].join(', ')}`);
  const key = keys.servers.get(options.as);
  if (key === undefined) throw new UsageError(`${options.keys} has no key for ${options.as}`);
  if (options.latest.length === 0) throw new UsageError('--latest EVENT_ID is required (repeatable): the events whose prev_events to walk back from');
  const room = options.room ?? keys.room_id;
  const content: Record<string, unknown> = { latest_events: options.latest, earliest_events: options.earliest };
  if (options.limit !== undefined) content.limit = options.limit;
  if (options.minDepth !== undefined) content.min_depth = options.minDepth;
  const uri = `/_matrix/federation/v1/get_missing_events/${encodeURIComponent(room)}`;
  const destination = options.destination ?? config.serverName;
  const base = options.url ?? `http://${config.host}:${config.port}`;
  const authorization = signRequest({ method: 'POST', uri, origin: options.as, destination, content, key });
  let response: Response;
  try {
    response = await fetch(`${base}${uri}`, {
      method: 'POST',
      headers: { Authorization: authorization, 'Content-Type': 'application/json' },
      body: JSON.stringify(content),
    });
  } catch (error) {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, ...) is its cause.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`could not reach ${base}${uri}: ${cause?.code ?? cause?.message ?? (error as Error).message} (is the service running there? --url sets where)`);
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.stringify(JSON.parse(text), null, 2) };
  } catch {
    return { status: response.status, body: text };
  }
}

export function requestCommand(): Command {
  return new Command('request')
    .description('send a signed get_missing_events request (X-Matrix) as one of a generated room\'s servers')
    .option('--room <room_id>', 'the room (default: the keys file\'s room)')
    .option('--latest <event_id>', 'a latest_events entry (repeatable)', collect, [])
    .option('--earliest <event_id>', 'an earliest_events entry (repeatable)', collect, [])
    .option('--limit <n>', 'limit', integerOption(Number.MIN_SAFE_INTEGER))
    .option('--min-depth <n>', 'min_depth', integerOption(Number.MIN_SAFE_INTEGER))
    .option('--as <server_name>', 'the server that signs the request (its key is in the keys file)')
    .option('--keys <file>', 'the keys file of a generated room', join(PROJECT_ROOT, '.data', 'demo-room.jsonl.keys.json'))
    .option('--url <url>', 'the service (default: http://HOST:PORT from the configuration)')
    .option('--destination <server_name>', 'the destination in the signature (default: SERVER_NAME)')
    .action(async (options: RequestOptions) => {
      const { status, body } = await runRequest(options);
      process.stderr.write(`HTTP ${status}\n`);
      process.stdout.write(`${body}\n`);
      if (status < 200 || status >= 300) process.exitCode = 1;
    });
}

if (require.main === module) void runProgram(requestCommand());
