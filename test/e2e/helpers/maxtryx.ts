/**
 * MaxTryX as an operator runs it beside a homeserver: the built CLI (`node dist/src/cli/main.js`, as `maxtryx`) in
 * processes of its own, on the test Neo4j. `serve` with the homeserver's server name, its JSON log lines kept in a
 * file the test reads back; `import --from-synapse` and `follow --from-synapse` on the homeserver's database.
 * Key fetches may reach loopback and accept the self-signed certificate of the test Synapses.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../../src/paths';
import { testNeo4j } from '../../helpers/neo4j';
import { sleep } from '../../synapse/helpers/homeserver';

const run = promisify(execFile);
const CLI = join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js');

/** The environment every MaxTryX process of a test gets: the test Neo4j, loopback key fetches. */
function baseEnv(): NodeJS.ProcessEnv {
  const neo4j = testNeo4j();
  return {
    PATH: process.env.PATH,
    NEO4J_URI: neo4j.uri,
    NEO4J_USER: neo4j.user,
    NEO4J_PASSWORD: neo4j.password,
    NEO4J_DATABASE: neo4j.database ?? '',
    FEDERATION_VERIFY_TLS: 'false',
    FEDERATION_ALLOW_PRIVATE_ADDRESSES: 'true',
    LOG_LEVEL: 'info',
  };
}

/** One JSON log line of the service (winston: message, level, and the fields it was given). */
export type LogLine = Record<string, unknown> & { message: string; level: string };

export interface MaxtryxProcess {
  /** The ops listener: /health, /ready, /metrics. */
  readonly opsUrl: string;
  readonly logPath: string;
  /** Starts it and waits until its /ready answers 200 (for `follow`: the first catch-up is done). */
  start(): Promise<void>;
  /** SIGTERM, and waits for the process to end. */
  stop(): Promise<void>;
  log(): Promise<LogLine[]>;
  /** Its /metrics text (from the ops listener). */
  metrics(): Promise<string>;
}

export interface MaxtryxService extends MaxtryxProcess {
  readonly port: number;
  readonly url: string;
}

export interface MaxtryxProcessOptions {
  readonly dir: string;
  /** Names its log file. */
  readonly name: string;
  /** The subcommand and its arguments: `serve`, `follow --from-synapse ...`. */
  readonly args: readonly string[];
  readonly opsPort: number;
  /** More environment variables (SERVER_NAME, PORT, UPSTREAM_FEDERATION_URL, ...). */
  readonly env?: Record<string, string>;
}

export function maxtryxProcess(options: MaxtryxProcessOptions): MaxtryxProcess {
  const logPath = join(options.dir, `${options.name}.log`);
  const opsUrl = `http://127.0.0.1:${options.opsPort}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  return {
    opsUrl,
    logPath,
    async start() {
      const output = createWriteStream(logPath, { flags: 'a' });
      const started = spawn(process.execPath, [CLI, ...options.args], {
        cwd: options.dir,
        env: { ...baseEnv(), OPS_HOST: '127.0.0.1', OPS_PORT: String(options.opsPort), ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.stdout!.pipe(output);
      started.stderr!.pipe(output);
      child = started;
      exited = new Promise((done) => started.once('exit', () => done()));
      const deadline = Date.now() + 120_000;
      for (;;) {
        if (started.exitCode !== null) throw new Error(`maxtryx ${options.args[0]} exited with code ${started.exitCode}; see ${logPath}`);
        try {
          if ((await fetch(`${opsUrl}/ready`)).ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`maxtryx ${options.args[0]} was not ready within 120 s; see ${logPath}`);
        await sleep(200);
      }
    },
    async stop() {
      const running = child;
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
      running.kill('SIGTERM');
      const timeout = setTimeout(() => running.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timeout);
    },
    async log() {
      if (!existsSync(logPath)) return [];
      const lines: LogLine[] = [];
      for (const text of (await readFile(logPath, 'utf8')).split('\n')) {
        if (!text.startsWith('{')) continue;
        try {
          lines.push(JSON.parse(text) as LogLine);
        } catch {
          // a line cut short by a kill
        }
      }
      return lines;
    },
    async metrics() {
      return (await fetch(`${opsUrl}/metrics`)).text();
    },
  };
}

/** `maxtryx serve` with the homeserver's server name, a signing key of its own, and `env` (UPSTREAM_FEDERATION_URL ...). */
export function maxtryxService(options: { dir: string; port: number; opsPort: number; serverName: string; env?: Record<string, string> }): MaxtryxService {
  const served = maxtryxProcess({
    dir: options.dir,
    name: `maxtryx-serve-${options.port}`,
    args: ['serve'],
    opsPort: options.opsPort,
    env: {
      SERVER_NAME: options.serverName,
      HOST: '127.0.0.1',
      PORT: String(options.port),
      SIGNING_KEY_PATH: join(options.dir, 'maxtryx-signing.key'),
      ...options.env,
    },
  });
  return { ...served, port: options.port, url: `http://127.0.0.1:${options.port}` };
}

/** `maxtryx follow --from-synapse DATABASE --room ...`: ready once its first catch-up is done. */
export function maxtryxFollower(options: { dir: string; opsPort: number; database: string; rooms?: readonly string[] }): MaxtryxProcess {
  return maxtryxProcess({
    dir: options.dir,
    name: `maxtryx-follow-${options.opsPort}`,
    args: ['follow', '--from-synapse', options.database, ...(options.rooms ?? []).flatMap((roomId) => ['--room', roomId])],
    opsPort: options.opsPort,
  });
}

/** `maxtryx import --from-synapse DATABASE --room ...`: a one-shot import; resolves with its output. */
export async function importFromSynapse(database: string, roomIds: readonly string[]): Promise<string> {
  const args = [CLI, 'import', '--from-synapse', database, ...roomIds.flatMap((roomId) => ['--room', roomId])];
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: PROJECT_ROOT, env: baseEnv(), maxBuffer: 16 * 1024 * 1024 });
    return `${stdout}${stderr}`;
  } catch (error) {
    const failed = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`maxtryx import --from-synapse failed: ${failed.message}\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
  }
}

/** Sums a counter of a Prometheus text, over the series whose labels include every `labels` pair. */
export function counterValue(metricsText: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(\{([^}]*)\})? ([0-9.e+-]+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const present = new Map((match[3] ?? '').split(',').filter(Boolean).map((pair) => {
      const [key, value] = pair.split('=');
      return [key!, JSON.parse(value!) as string];
    }));
    if (Object.entries(labels).every(([key, value]) => present.get(key) === value)) total += Number(match[4]);
  }
  return total;
}
