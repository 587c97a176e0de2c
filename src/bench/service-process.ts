/**
 * The service as `npm start` runs it, for benchmarks: `node <SERVICE_NODE_OPTIONS> dist/src/main.js` in a process of
 * its own, configured by the environment only (the rate limiter, the per-(origin, room) queue, the request deadline,
 * metrics, the request log at LOG_LEVEL, the ops listener), on free ports, with a throw-away signing key. Resolves
 * once its ops listener says it is ready. BENCH_SERVICE_NODE_ARGS adds node options (e.g. --cpu-prof).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../free-ports';
import { PROJECT_ROOT } from '../paths';
import { SERVICE_NODE_OPTIONS } from '../service/node-options';
import { processRss } from './host';

export interface ServiceProcess {
  readonly pid: number;
  readonly port: number;
  readonly opsPort: number;
  rss(): { rss: number; peak: number };
  stop(): Promise<void>;
}

/** Starts the service with `env` over this process's environment (NEO4J_URI and the rest are passed on). */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const [port, opsPort] = await freePorts(2);
  const dir = mkdtempSync(join(tmpdir(), 'maxtryx-bench-'));
  const execArgv = [...SERVICE_NODE_OPTIONS, ...(process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...execArgv, join(PROJECT_ROOT, 'dist', 'src', 'main.js')], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      OPS_HOST: '127.0.0.1',
      OPS_PORT: String(opsPort),
      SIGNING_KEY_PATH: join(dir, 'signing.key'),
      LOG_FORMAT: 'json',
      ...env,
    },
    // The request log goes to /dev/null as a log collector would take it: written, never read here.
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}) before it was ready`);
    const ready = await fetch(`http://127.0.0.1:${opsPort}/ready`).then((response) => response.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the service was not ready within 180 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    pid: child.pid!,
    port: port!,
    opsPort: opsPort!,
    rss: () => processRss(child.pid!),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
