/**
 * Debian's nginx in front of a homeserver's federation port, as deploy/nginx/ ships it: run as our own process
 * (`nginx -p DIR -c CONF -e LOG -g 'daemon off;'`, pid, logs and temp files under DIR), TLS with the test
 * certificate (federation is HTTPS), deploy/nginx/get-missing-events.conf included as it is (it sends
 * get_missing_events to the `maxtryx` upstream), and everything else to the homeserver's own federation listener.
 * The access log names the upstream that answered each request, so a test can tell who served what.
 * When /usr/sbin/nginx is missing it is installed with apt-get (as root), as CI does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { sleep } from '../../synapse/helpers/homeserver';

const run = promisify(execFile);

export const NGINX = '/usr/sbin/nginx';
const ROOT = resolve(__dirname, '..', '..', '..');
export const LOCATION_FILE = join(ROOT, 'deploy', 'nginx', 'get-missing-events.conf');
const TLS_DIR = join(ROOT, 'test', 'fixtures', 'tls');

export interface NginxOptions {
  readonly dir: string;
  /** The port nginx listens on (TLS), on 127.0.0.1: the port in the homeserver's server name. */
  readonly port: number;
  /**
   * `host:port` of MaxTryX (plain HTTP). Without it the location file is left out and everything goes to the
   * homeserver: the deployment before MaxTryX, for the baseline.
   */
  readonly maxtryx?: string;
  /** `https://127.0.0.1:<port>`: the homeserver's own federation listener. */
  readonly homeserver: string;
}

/** One line of the access log: what was asked, what was answered, and by which upstream. */
export interface AccessLogLine {
  readonly method: string;
  readonly uri: string;
  readonly status: number;
  readonly upstream: string;
  readonly seconds: number;
}

export interface Nginx {
  readonly url: string;
  readonly accessLogPath: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  accessLog(): Promise<AccessLogLine[]>;
}

export async function createNginx(options: NginxOptions): Promise<Nginx> {
  await ensureNginx();
  const dir = resolve(options.dir);
  await mkdir(join(dir, 'logs'), { recursive: true });
  await mkdir(join(dir, 'temp'), { recursive: true });
  const accessLogPath = join(dir, 'logs', 'access.log');
  const errorLogPath = join(dir, 'logs', 'error.log');
  const configPath = join(dir, 'nginx.conf');
  const temp = (name: string) => join(dir, 'temp', name);
  // Tab-separated so a URI with spaces (there is none in federation) could not shift the fields.
  await writeFile(
    configPath,
    `worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${errorLogPath} info;
events { worker_connections 256; }
http {
  log_format upstreams '$request_method\\t$request_uri\\t$status\\t$upstream_addr\\t$request_time';
  access_log ${accessLogPath} upstreams;
  client_body_temp_path ${temp('body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};

${options.maxtryx === undefined ? '' : `  upstream maxtryx {
    server ${options.maxtryx};
    keepalive 16;
  }
`}
  server {
    listen 127.0.0.1:${options.port} ssl;
    ssl_certificate ${join(TLS_DIR, 'localhost.crt')};
    ssl_certificate_key ${join(TLS_DIR, 'localhost.key')};

${options.maxtryx === undefined ? '' : `    include ${LOCATION_FILE};
`}
    location / {
      proxy_pass ${options.homeserver};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_http_version 1.1;
      client_max_body_size 50m;
    }
  }
}
`,
  );

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const url = `https://127.0.0.1:${options.port}`;

  return {
    url,
    accessLogPath,
    async start() {
      // Checks the configuration first, so a bad one fails here with nginx's own message.
      await run(NGINX, ['-t', '-q', '-p', dir, '-c', configPath, '-e', errorLogPath]).catch((error: Error & { stderr?: string }) => {
        throw new Error(`nginx -t refused ${configPath}: ${error.stderr ?? error.message}`);
      });
      const output = createWriteStream(join(dir, 'logs', 'stdout.log'), { flags: 'a' });
      const started = spawn(NGINX, ['-p', dir, '-c', configPath, '-e', errorLogPath, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
      started.stdout!.pipe(output);
      started.stderr!.pipe(output);
      child = started;
      exited = new Promise((done) => started.once('exit', () => done()));
      const deadline = Date.now() + 20_000;
      while (!(await listening(options.port))) {
        if (started.exitCode !== null) throw new Error(`nginx exited with code ${started.exitCode}; see ${errorLogPath}`);
        if (Date.now() > deadline) throw new Error(`nginx did not listen on ${options.port} within 20 s; see ${errorLogPath}`);
        await sleep(100);
      }
    },
    async stop() {
      const running = child;
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
      // SIGQUIT: a graceful shutdown of the master and its worker.
      running.kill('SIGQUIT');
      const timeout = setTimeout(() => running.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timeout);
    },
    async accessLog() {
      if (!existsSync(accessLogPath)) return [];
      return (await readFile(accessLogPath, 'utf8'))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          const [method, uri, status, upstream, seconds] = line.split('\t');
          return { method: method!, uri: uri!, status: Number(status), upstream: upstream!, seconds: Number(seconds) };
        });
    },
  };
}

async function listening(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      done(true);
    });
    socket.on('error', () => done(false));
  });
}

/** Installs Debian's nginx when /usr/sbin/nginx is missing (as root); throws saying how otherwise. */
async function ensureNginx(): Promise<void> {
  if (existsSync(NGINX)) return;
  if (process.getuid?.() !== 0) throw new Error(`${NGINX} is missing: install Debian's nginx (sudo apt-get install nginx) and run npm run test:e2e again`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', 'nginx'], { env, maxBuffer: 64 * 1024 * 1024 });
  try {
    await install();
  } catch {
    await run('apt-get', ['update'], { env, maxBuffer: 64 * 1024 * 1024 });
    await install();
  }
  if (!existsSync(NGINX)) throw new Error(`apt-get installed nginx, but ${NGINX} is still missing`);
}
