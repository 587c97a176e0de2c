/**
 * A real Synapse on loopback for the tests: SQLite, an IP-literal server name (`127.0.0.1:<federation port>`), a
 * TLS federation listener with the test certificate and a plain client listener, users registered through the
 * shared-secret admin API. Two of them federate with each other: certificates are not verified, and the IP range
 * blocklist is every address but 127.0.0.0/8 (for IP-literal names Synapse's federation client checks only the
 * blocklist). Its signing key is one we generate, so a test can sign federation requests as this server.
 *
 * With `postgres` (a database URL, e.g. from startPostgres().createDatabase in ./postgres.ts) it runs on
 * PostgreSQL (psycopg2) instead of SQLite: what Synapse recommends for production, and what `maxtryx follow` reads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { freePort } from '../../helpers/free-ports';
import { formatSigningKeyFile, generateSigningKey, type SigningKey } from '../../../src/core/signing';

const TLS_DIR = resolve(__dirname, '..', '..', 'fixtures', 'tls');

/** Every IPv4 address but 127.0.0.0/8, and all of IPv6. */
const ALL_BUT_LOOPBACK = [
  '0.0.0.0/2', '64.0.0.0/3', '96.0.0.0/4', '112.0.0.0/5', '120.0.0.0/6', '124.0.0.0/7', '126.0.0.0/8', '128.0.0.0/1', '::/0',
];
const UNLIMITED = { per_second: 1000, burst_count: 1000 };

export interface Homeserver {
  readonly serverName: string;
  /** `https://127.0.0.1:<port>`: its own federation listener (behind the proxy when there is one). */
  readonly federationUrl: string;
  /** `http://127.0.0.1:<port>`: client and admin APIs. */
  readonly clientUrl: string;
  readonly signingKey: SigningKey;
  /** Its database: the SQLite file's path, or the PostgreSQL URL it was given. */
  readonly databasePath: string;
  readonly logPath: string;
  start(): Promise<void>;
  /** SIGTERM, and waits for the process to end (Synapse closes its database, checkpointing SQLite's log). */
  stop(): Promise<void>;
  /** Registers a user with the shared secret (a server admin when `admin`); returns its user ID and access token. */
  register(localpart: string, admin?: boolean): Promise<{ userId: string; accessToken: string }>;
}

export interface HomeserverOptions {
  readonly python: string;
  readonly dir: string;
  /**
   * The port in the server name, where other servers reach this one: a reverse proxy's in front of the federation
   * listener (the deployment "Beside Synapse" describes). The federation listener's own port unless given.
   */
  readonly serverPort?: number;
  /** A PostgreSQL database URL (`postgresql://user[:password]@host:port/name`) to run on instead of SQLite. */
  readonly postgres?: string;
  /** Settings that replace the generated homeserver.yaml's at the top level (e.g. `federation`). */
  readonly config?: Record<string, unknown>;
}

export async function createHomeserver(options: HomeserverOptions): Promise<Homeserver> {
  const { python, dir } = options;
  await mkdir(join(dir, 'media'), { recursive: true });
  const [federationPort, clientPort] = [await freePort(), await freePort()];
  const serverName = `127.0.0.1:${options.serverPort ?? federationPort}`;
  const signingKey = generateSigningKey(`a_${randomBytes(3).toString('hex')}`);
  const sharedSecret = randomBytes(16).toString('hex');
  const configPath = join(dir, 'homeserver.yaml');
  const databasePath = options.postgres ?? join(dir, 'homeserver.db');
  const logPath = join(dir, 'homeserver.log');

  await writeFile(join(dir, 'signing.key'), formatSigningKeyFile(signingKey), { mode: 0o600 });
  // YAML is a superset of JSON, so the configuration is written as JSON.
  await writeFile(
    join(dir, 'log.yaml'),
    JSON.stringify({
      version: 1,
      formatters: { precise: { format: '%(asctime)s %(name)s %(levelname)s %(message)s' } },
      handlers: { file: { class: 'logging.FileHandler', formatter: 'precise', filename: logPath } },
      root: { level: 'INFO', handlers: ['file'] },
      disable_existing_loggers: false,
    }),
  );
  await writeFile(
    configPath,
    JSON.stringify({
      server_name: serverName,
      pid_file: join(dir, 'homeserver.pid'),
      listeners: [
        { port: federationPort, bind_addresses: ['127.0.0.1'], type: 'http', tls: true, resources: [{ names: ['federation'], compress: false }] },
        { port: clientPort, bind_addresses: ['127.0.0.1'], type: 'http', tls: false, resources: [{ names: ['client'], compress: false }] },
      ],
      tls_certificate_path: join(TLS_DIR, 'localhost.crt'),
      tls_private_key_path: join(TLS_DIR, 'localhost.key'),
      database: options.postgres === undefined ? { name: 'sqlite3', args: { database: databasePath } } : postgresDatabase(options.postgres),
      log_config: join(dir, 'log.yaml'),
      media_store_path: join(dir, 'media'),
      signing_key_path: join(dir, 'signing.key'),
      registration_shared_secret: sharedSecret,
      macaroon_secret_key: randomBytes(16).toString('hex'),
      form_secret: randomBytes(16).toString('hex'),
      report_stats: false,
      trusted_key_servers: [],
      suppress_key_server_warning: true,
      federation_verify_certificates: false,
      ip_range_blacklist: ALL_BUT_LOOPBACK,
      // A destination that failed is retried within a second, not after Synapse's default ten minutes.
      federation: { destination_min_retry_interval: 500, destination_max_retry_interval: '2s' },
      presence: { enabled: false },
      enable_metrics: false,
      url_preview_enabled: false,
      rc_message: UNLIMITED,
      rc_registration: UNLIMITED,
      rc_login: { address: UNLIMITED, account: UNLIMITED, failed_attempts: UNLIMITED },
      rc_joins: { local: UNLIMITED, remote: UNLIMITED },
      rc_joins_per_room: UNLIMITED,
      rc_invites: { per_room: UNLIMITED, per_user: UNLIMITED, per_issuer: UNLIMITED },
      rc_room_creation: UNLIMITED,
      rc_federation: { window_size: 1000, sleep_limit: 1000, sleep_delay: 0, reject_limit: 1000, concurrent: 100 },
      ...options.config,
    }),
  );

  let child: ChildProcess | undefined;
  let exited: Promise<void> | undefined;
  const clientUrl = `http://127.0.0.1:${clientPort}`;

  return {
    serverName,
    federationUrl: `https://127.0.0.1:${federationPort}`,
    clientUrl,
    signingKey,
    databasePath,
    logPath,
    async start() {
      const output = createWriteStream(join(dir, 'stdout.log'), { flags: 'a' });
      const started = spawn(python, ['-m', 'synapse.app.homeserver', '-c', configPath], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      started.stdout!.pipe(output);
      started.stderr!.pipe(output);
      child = started;
      exited = new Promise((done) => started.once('exit', () => done()));
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (started.exitCode !== null) throw new Error(`Synapse ${serverName} exited with code ${started.exitCode}; see ${join(dir, 'stdout.log')} and ${logPath}`);
        try {
          if ((await fetch(`${clientUrl}/_matrix/client/versions`)).ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`Synapse ${serverName} did not answer within 60 s; see ${logPath}`);
        await sleep(200);
      }
    },
    async stop() {
      if (child === undefined || child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timeout = setTimeout(() => child?.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timeout);
    },
    async register(localpart: string, admin = false) {
      const url = `${clientUrl}/_synapse/admin/v1/register`;
      const { nonce } = (await (await fetch(url)).json()) as { nonce: string };
      const password = randomBytes(12).toString('hex');
      const mac = createHmac('sha1', sharedSecret).update(`${nonce}\0${localpart}\0${password}\0${admin ? 'admin' : 'notadmin'}`).digest('hex');
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ nonce, username: localpart, password, admin, mac }),
      });
      const body = (await response.json()) as { user_id?: string; access_token?: string };
      if (!response.ok || body.user_id === undefined || body.access_token === undefined) {
        throw new Error(`registering ${localpart} on ${serverName}: ${response.status} ${JSON.stringify(body)}`);
      }
      return { userId: body.user_id, accessToken: body.access_token };
    },
  };
}

/** Synapse's `database` section for a PostgreSQL URL (psycopg2 takes libpq's connection keywords). */
function postgresDatabase(url: string): Record<string, unknown> {
  const parsed = new URL(url);
  const args: Record<string, unknown> = {
    user: decodeURIComponent(parsed.username),
    database: decodeURIComponent(parsed.pathname.slice(1)),
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    cp_min: 1,
    cp_max: 10,
  };
  if (parsed.password !== '') args.password = decodeURIComponent(parsed.password);
  return { name: 'psycopg2', args };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
