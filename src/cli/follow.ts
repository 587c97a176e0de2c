/**
 * maxtryx follow --from-synapse DATABASE [--room ROOM_ID ...]
 * Imports the rooms of a Synapse PostgreSQL database, then keeps importing what Synapse persists, until stopped
 * (SIGINT, SIGTERM). Its /health, /ready (not ready until the first catch-up ends) and /metrics (lag) are on the
 * ops listener (OPS_HOST:OPS_PORT), as the service's; src/follow/follower.ts says how it is crash-safe.
 */
import type { Server } from 'node:http';
import { Command } from 'commander';
import { loadConfig } from '../config';
import { startFollower } from '../follow/start-follower';
import { listen } from '../http/client-error';
import { roomGraphReadiness } from '../http/health';
import { createMetrics } from '../http/metrics';
import { createOpsApp } from '../http/ops-app';
import { isPostgresUrl } from '../importer/synapse-database';
import { createLogger, defaultLogFormat } from '../logger';
import { connectGraph } from '../store/connect';
import { applySchema, assertReady } from '../store/neo4j';
import { collect, integerOption, runProgram, UsageError } from './command';

export interface FollowCommandOptions {
  readonly fromSynapse: string;
  readonly rooms: readonly string[];
  readonly pageSize?: number;
  readonly pollMs?: number;
}

/** Follows until SIGINT or SIGTERM, then stops after the page in hand and closes. */
export async function runFollow(options: FollowCommandOptions): Promise<void> {
  if (!isPostgresUrl(options.fromSynapse)) {
    throw new UsageError(
      `--from-synapse must be a postgres:// URL: follow reads Synapse's PostgreSQL while Synapse writes it (an SQLite ` +
        `database can only be imported once Synapse is stopped: maxtryx import --from-synapse FILE)`,
    );
  }
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel, false, undefined, config.logFormat ?? defaultLogFormat());
  const { graph, close } = await connectGraph(config.neo4j);
  await applySchema(graph);
  const metrics = createMetrics();
  const running = startFollower({
    source: options.fromSynapse, rooms: options.rooms, graph, logger, registry: metrics.registry,
    pageSize: options.pageSize, pollMs: options.pollMs,
  });
  const readiness = [roomGraphReadiness(() => assertReady(graph), logger), running.readiness];
  const ops: Server = await listen(createOpsApp({ metrics, readiness, logger }), config.opsPort, config.opsHost);
  logger.info('follow: ops listening', { url: `http://${config.opsHost}:${config.opsPort}`, endpoints: ['/health', '/ready', '/metrics'] });
  await new Promise<void>((done) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => done());
  });
  logger.info('follow: stopping');
  ops.close();
  ops.closeAllConnections();
  await running.stop();
  await close();
}

export function followCommand(): Command {
  return new Command('follow')
    .description('import the rooms of a Synapse PostgreSQL database, then keep importing what Synapse persists')
    .requiredOption('--from-synapse <database>', "Synapse's PostgreSQL database (postgres://user:password@host:port/name)")
    .option('--room <room_id>', 'a room to follow (repeatable); every room when absent', collect, [])
    .option('--page-size <n>', 'events read and committed per transaction', integerOption(1), 500)
    .option('--poll-ms <ms>', 'wait between polls once caught up', integerOption(10), 100)
    .action((opts: { fromSynapse: string; room: string[]; pageSize: number; pollMs: number }) =>
      runFollow({ fromSynapse: opts.fromSynapse, rooms: opts.room, pageSize: opts.pageSize, pollMs: opts.pollMs }),
    );
}

if (require.main === module) void runProgram(followCommand());
