/**
 * A PostgreSQL of our own for the tests (Synapse's production database): Debian's PostgreSQL 15, `initdb` into a
 * directory and `postgres` started as a child process, listening on 127.0.0.1 on a free port, its Unix socket in
 * the same directory, trust authentication for the `postgres` role. PostgreSQL refuses to run as root, so as root
 * it runs as the OS user `maxtryx-pg` (created on first use, no home, no shell), through setpriv (which execs, so
 * the child's PID is the postmaster's own and signals reach it).
 *
 *   const pg = await startPostgres({ dir });            // dir: a scratch directory (made traversable by others)
 *   const url = await pg.createDatabase('synapse');     // postgresql://postgres@127.0.0.1:PORT/synapse
 *   createHomeserver({ python, dir, postgres: url });   // a Synapse on it
 *   await pg.stop(); await pg.start();                  // a restart (the same data); stop() at the end
 *
 * When /usr/lib/postgresql/15/bin/postgres is missing it is installed with apt-get (as root), as CI does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from '../../helpers/free-ports';

const run = promisify(execFile);

export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';
export const POSTGRES_USER = 'maxtryx-pg';

export interface Postgres {
  readonly port: number;
  /** The `postgres` maintenance database, as the `postgres` superuser: `postgresql://postgres@127.0.0.1:PORT/postgres`. */
  readonly url: string;
  readonly dataDir: string;
  readonly logPath: string;
  /**
   * Creates a database as Synapse requires it (UTF8, C collation and ctype, from template0) and returns its URL.
   * The name must be a plain identifier ([a-z_][a-z0-9_]*).
   */
  createDatabase(name: string): Promise<string>;
  /** Starts it again after stop(), on the same port and data. */
  start(): Promise<void>;
  /** A fast shutdown (SIGINT: clients are disconnected, data kept); waits until the process has ended. */
  stop(): Promise<void>;
}

export async function startPostgres(options: { dir: string; log?: (line: string) => void }): Promise<Postgres> {
  const log = options.log ?? (() => undefined);
  await ensureInstalled(log);
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? await ensureUser() : undefined;

  const base = resolve(options.dir);
  const dataDir = join(base, 'pgdata');
  const socketDir = join(base, 'pgsocket');
  const logPath = join(base, 'postgres.log');
  await mkdir(socketDir, { recursive: true });
  if (owner !== undefined) {
    // The postgres user must reach its directories: `base` and its parents need search (x) permission for others.
    await makeTraversable(base);
    await chown(socketDir, owner.uid, owner.gid);
  }
  const asOwner = (command: string, args: string[]): [string, string[]] =>
    owner === undefined ? [command, args] : ['setpriv', [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', '--', command, ...args]];

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (owner !== undefined) await chown(dataDir, owner.uid, owner.gid);
    const [command, args] = asOwner(join(POSTGRES_BIN, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
    await run(command, args, { cwd: '/', maxBuffer: 4 * 1024 * 1024 });
  }

  const port = await freePort();
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) return;
    const [command, args] = asOwner(join(POSTGRES_BIN, 'postgres'), [
      '-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1',
      // A test database: losing it in a power cut does not matter, speed does.
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
    ]);
    const output = createWriteStream(logPath, { flags: 'a' });
    const started = spawn(command, args, { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout!.pipe(output);
    started.stderr!.pipe(output);
    child = started;
    exited = new Promise((done) => started.once('exit', () => done()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (started.exitCode !== null || started.signalCode !== null) throw new Error(`PostgreSQL exited (${started.exitCode ?? started.signalCode}); see ${logPath}`);
      const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        log(`PostgreSQL listening on 127.0.0.1:${port} (data ${dataDir})`);
        return;
      } catch {
        await client.end().catch(() => undefined);
      }
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within 60 s; see ${logPath}`);
      await new Promise((done) => setTimeout(done, 100));
    }
  };

  await start();
  return {
    port,
    url,
    dataDir,
    logPath,
    start,
    async stop() {
      const running = child;
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
      running.kill('SIGINT');
      const timeout = setTimeout(() => running.kill('SIGQUIT'), 20_000);
      await exited;
      clearTimeout(timeout);
    },
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name} ENCODING 'UTF8' LC_COLLATE='C' LC_CTYPE='C' TEMPLATE=template0`);
      } finally {
        await client.end();
      }
      return `postgresql://postgres@127.0.0.1:${port}/${name}`;
    },
  };
}

async function ensureInstalled(log: (line: string) => void): Promise<void> {
  if (existsSync(join(POSTGRES_BIN, 'postgres'))) return;
  if (process.getuid?.() !== 0) throw new Error(`${POSTGRES_BIN}/postgres is missing: install PostgreSQL 15 (apt-get install postgresql)`);
  log('installing PostgreSQL with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { env, maxBuffer: 64 * 1024 * 1024 });
  } catch {
    await run('apt-get', ['update'], { env, maxBuffer: 64 * 1024 * 1024 });
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { env, maxBuffer: 64 * 1024 * 1024 });
  }
  if (!existsSync(join(POSTGRES_BIN, 'postgres'))) throw new Error(`apt-get installed postgresql, but ${POSTGRES_BIN}/postgres is still missing`);
}

/** The OS user PostgreSQL runs as when we are root; created on first use. */
async function ensureUser(): Promise<{ uid: number; gid: number }> {
  const lookUp = async (): Promise<{ uid: number; gid: number } | undefined> => {
    try {
      const [uid, gid] = await Promise.all([run('id', ['-u', POSTGRES_USER]), run('id', ['-g', POSTGRES_USER])]);
      return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
    } catch {
      return undefined;
    }
  };
  const found = await lookUp();
  if (found !== undefined) return found;
  try {
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', POSTGRES_USER]);
  } catch (error) {
    // Another test process may have created it at the same moment.
    if ((await lookUp()) === undefined) throw error;
  }
  const created = await lookUp();
  if (created === undefined) throw new Error(`could not create the OS user ${POSTGRES_USER}`);
  return created;
}

/**
 * Adds search permission for others to `dir`, and to its parents up to the temporary directory, where it is missing
 * (read permission is not given). A directory elsewhere whose parents others cannot search is an error.
 */
async function makeTraversable(dir: string): Promise<void> {
  const top = resolve(tmpdir());
  for (let current = dir; ; current = dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) {
      if (current !== dir && !current.startsWith(`${top}/`)) throw new Error(`${POSTGRES_USER} cannot reach ${dir}: ${current} is not searchable by others`);
      await chmod(current, (mode & 0o7777) | 0o001);
    }
    if (current === top || dirname(current) === current) return;
  }
}
