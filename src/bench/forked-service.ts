/**
 * The service forked from bench-serve.js (built like main.ts, in a process of its own): what `npm run soak` measures.
 * The endpoint benchmark runs the service as `npm start` runs it instead (src/bench/service-process.ts).
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { SERVICE_NODE_OPTIONS } from '../service/node-options';

export interface BenchService {
  readonly port: number;
  rss(): Promise<{ rss: number; peak: number }>;
  stop(): Promise<void>;
}

/**
 * Forks the service (bench-serve.js) with this process's environment, so it uses the same Neo4j.
 */
export async function startService(): Promise<BenchService> {
  // The options the service ships with, then BENCH_SERVICE_NODE_ARGS: more for the service alone, e.g. --cpu-prof
  // to profile it under load.
  const execArgv = [...SERVICE_NODE_OPTIONS, ...(process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = fork(join(__dirname, '..', 'cli', 'bench-serve.js'), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(key: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (!(key in message)) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as T);
      };
      const onExit = (code: number | null) => reject(new Error(`the service exited (${code})`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const { port } = await next<{ port: number }>('port');
  return {
    port,
    rss: () => {
      const answer = next<{ rss: number; peak: number }>('rss');
      child.send('rss');
      return answer;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}

