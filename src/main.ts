/**
 * The one place that wires real dependencies: config -> logger -> Neo4j -> schema -> signing key -> key fetcher
 * -> app -> listen. With NEO4J_URI unset it starts the project's local Neo4j and, into an empty database,
 * imports a generated demo room.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { loadConfig, type Config } from './config';
import { loadConfigWithFile } from './config-file';
import { createLogger, defaultLogFormat, type LogFormat, type Logger } from './logger';
import { connectGraph } from './store/connect';
import { applySchema, assertReady, type Graph } from './store/neo4j';
import { EventStore } from './store/event-store';
import { Neo4jServerKeyStore } from './store/server-key-store';
import { loadOrCreateSigningKey } from './federation/local-signing-key';
import { createHttpsFetchJson, resolveSrv } from './federation/https-client';
import { ServerDiscovery } from './federation/server-discovery';
import { KeyFetcher } from './federation/key-fetcher';
import { xMatrixAuth } from './http/x-matrix-auth';
import { createApp } from './http/app';
import { roomGraphReadiness, type ReadinessCheck } from './http/health';
import { createOpsApp } from './http/ops-app';
import { startFollower } from './follow/start-follower';
import { createPassThrough } from './http/pass-through';
import { listen } from './http/client-error';
import { createMetrics, type Metrics } from './http/metrics';
import { FederationRateLimiter } from './http/rate-limit';
import { federationRateLimit, oneWalkPerRoom } from './http/rate-limit-middleware';
import { demoRoomFile, ensureDemoRoomFile, registerRoomKeys } from './service/demo-room';
import { describe, importSources } from './importer/import-files';
import { PROJECT_ROOT } from './paths';

const DATA_DIR = join(PROJECT_ROOT, '.data');

/** Starts the service as configured by the environment; resolves once it listens. `maxtryx serve` calls it. */
export async function serve(): Promise<void> {
  let config: Config;
  try {
    config = loadConfigWithFile(process.env);
  } catch (error) {
    process.stderr.write(`Configuration error: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const logFormat = config.logFormat ?? defaultLogFormat();
  const logger = createLogger(config.logLevel, false, undefined, logFormat);
  const say = sayer(logFormat, logger);
  const { graph, browserUrl } = await connectGraph(config.neo4j, (line) => logger.info(line));
  await applySchema(graph);
  const now = Date.now;

  const metrics = createMetrics();
  const events = new EventStore(graph, metrics.walks);
  const keyStore = new Neo4jServerKeyStore(graph);
  // The ops listener first, so /health and /ready answer during the start-up work below. /ready reads this list on
  // every request: not ready until the federation listener listens, nor while the room graph cannot be read.
  let listening = false;
  const readiness: ReadinessCheck[] = [async () => (listening ? undefined : 'starting'), roomGraphReadiness(() => assertReady(graph), logger)];
  const ops: Server = await listen(createOpsApp({ metrics, readiness, logger }), config.opsPort, config.opsHost);
  logger.info('ops listening', { url: `http://${config.opsHost}:${config.opsPort}`, endpoints: ['/health', '/ready', '/metrics'] });
  // serve --follow: the follower runs in this process (src/follow/), not ready until its first catch-up has ended.
  if (config.followSynapse) {
    const { database: source, rooms } = config.followSynapse;
    readiness.push(startFollower({ source, rooms, graph, logger, registry: metrics.registry }).readiness);
  }
  const demoRoom = config.neo4j.uri ? undefined : await demo(config, events, keyStore, logger, metrics, say, logFormat);

  // Plans the hot path's queries before the first request does (about 2 s for the walk on a fresh Neo4j). Only a
  // head start: on a host too busy to plan within the warm-up's timeout the first requests plan them instead.
  const warmUpStarted = performance.now();
  try {
    await graph.availability?.warmUp();
    logger.info('planned the walk', { ms: Math.round(performance.now() - warmUpStarted) });
  } catch (error) {
    logger.warn('could not plan the walk ahead of the first request; it will plan it', { ms: Math.round(performance.now() - warmUpStarted), reason: (error as Error).message.split('\n')[0] });
  }

  const { key, created } = loadOrCreateSigningKey(config.signingKeyPath);
  if (created) logger.info('generated a signing key', { path: config.signingKeyPath, key_id: key.keyId });
  const fetchJson = createHttpsFetchJson({
    verifyTls: config.federationVerifyTls,
    allowPrivateAddresses: config.federationAllowPrivateAddresses,
  });
  const keyFetcher = new KeyFetcher(
    { fetchJson, discovery: new ServerDiscovery({ fetchJson, resolveSrv, now }), store: keyStore, now, logger, metrics: metrics.keys },
    { trustedKeyServers: config.trustedKeyServers, timeoutMs: config.keyFetchTimeoutMs, maxWaiting: config.keyFetchMaxWaiting },
  );
  const app = createApp({
    metrics,
    missingEvents: {
      events,
      limits: {
        maxLimit: config.missingEventsMaxLimit,
        maxLatestEvents: config.maxLatestEvents,
        maxEarliestEvents: config.maxEarliestEvents,
      },
    },
    server: { serverName: config.serverName, signingKey: key },
    authenticate: xMatrixAuth({ serverName: config.serverName, keyFetcher, now, logger }),
    passThrough: config.upstreamFederation && createPassThrough({ ...config.upstreamFederation, metrics: metrics.passThrough, logger }),
    rateLimit: [federationRateLimit(new FederationRateLimiter(config.rcFederation)), oneWalkPerRoom()],
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    requestDeadlineMs: config.requestDeadlineMs,
  });
  const server: Server = await listen(app, config.port, config.host);
  listening = true;
  logger.info('listening', {
    url: `http://${config.host}:${config.port}`, server_name: config.serverName,
    ...(config.upstreamFederation ? { upstream: config.upstreamFederation.url } : {}),
  });
  if (browserUrl) say(`Neo4j Browser: ${browserUrl} (connects with no authentication, applies the room style and opens the room guide)`, { message: 'Neo4j Browser', url: browserUrl });
  // Once the service answers, so that the line works the moment it shows.
  if (demoRoom) say(demoRoom.text, { message: 'demo room', ...demoRoom.fields });
  // Started or found by us, the local Neo4j outlives the service (the next start is quicker): say so on the way out.
  const localNeo4j = browserUrl === undefined ? undefined : () => say(
    `The local Neo4j (Browser ${browserUrl}) and its room guide keep running for the next start; stop them with: npm run neo4j:stop`,
    { message: 'the local Neo4j keeps running', browser: browserUrl, stop: 'npm run neo4j:stop' },
  );
  shutdownOn(['SIGINT', 'SIGTERM'], server, graph, logger, ops, localNeo4j);
}

/**
 * A line for whoever watches the terminal (the Browser link, the demo room and its Try: line); when the service
 * logs JSON, a log record instead, so that what collects stderr reads JSON only.
 */
type Say = (line: string, record: { message: string } & Record<string, unknown>) => void;

function sayer(format: LogFormat, logger: Logger): Say {
  if (format === 'pretty') return (line) => void process.stderr.write(`${line}\n`);
  return (_line, { message, ...fields }) => void logger.info(message, fields);
}

/**
 * Imports the demo room into an empty database and tells the key fetcher its servers' keys; returns the lines that
 * introduce it (its ID and a request to try), or nothing when the database holds other rooms. An import that stopped
 * before it finished (events stored, the room's state never settled: a crash, Ctrl-C) is run again, which stores
 * what is missing and settles the room, instead of serving a room whose access checks read no state.
 */
async function demo(
  config: Config, events: EventStore, keyStore: Neo4jServerKeyStore, logger: Logger, metrics: Metrics, say: Say, logFormat: LogFormat,
): Promise<{ text: string; fields: Record<string, unknown> } | undefined> {
  if (config.demoRoomEvents === 0) return undefined;
  const keys = await ensureDemoRoomFile(DATA_DIR, config.demoRoomEvents);
  const file = demoRoomFile(DATA_DIR);
  const stored = await events.roomImportState(keys.room_id);
  if (stored === undefined && (await events.roomCount()) > 0) return undefined;
  if (stored === undefined || !stored.settled || stored.events < countLines(file)) {
    if (stored !== undefined) {
      say(`The demo room's import did not finish (${stored.events} events stored, state ${stored.settled ? 'settled' : 'not settled'}): finishing it.`, {
        message: "finishing the demo room's import", events: stored.events, settled: stored.settled,
      });
    }
    const progress = logFormat === 'json' ? { log: (text: string) => logger.info('importing the demo room', { progress: text }) } : {};
    const summary = await importSources(events, [file], progress);
    metrics.recordImport(summary);
    logger.info('imported the demo room', { summary: describe(summary) });
  }
  await registerRoomKeys(keys, keyStore, Date.now());
  const latest = await events.latestEvent(keys.room_id);
  const servers = [...keys.servers.keys()];
  const command = `npm run request -- --room '${keys.room_id}' --latest '${latest?.event_id}' --limit 5 --as hs2.test${requestTarget(config)}`;
  return {
    text: `Demo room ${keys.room_id} (room version ${keys.room_version}, servers ${servers.join(', ')}).\nTry: ${command}`,
    fields: { room_id: keys.room_id, room_version: keys.room_version, servers, try: command },
  };
}

/** The request command's options that reach this service when it does not run with the defaults. */
function requestTarget(config: Config): string {
  const defaults = loadConfig({});
  const url = config.host !== defaults.host || config.port !== defaults.port ? ` --url http://${config.host}:${config.port}` : '';
  const destination = config.serverName !== defaults.serverName ? ` --destination ${config.serverName}` : '';
  return `${url}${destination}`;
}

function countLines(file: string): number {
  return readFileSync(file, 'utf8').split('\n').filter((line) => line.trim().length > 0).length;
}

/**
 * On SIGINT or SIGTERM: stop accepting connections, let the requests in flight get their answers (at most
 * SHUTDOWN_GRACE_MS, then their connections are closed and the exit code says so), close the driver, exit.
 */
const SHUTDOWN_GRACE_MS = 10_000;

function shutdownOn(signals: NodeJS.Signals[], server: Server, graph: Graph, logger: Logger, ops: Server, onShutdown?: () => void): void {
  for (const signal of signals) {
    process.once(signal, () => {
      logger.info('shutting down', { signal });
      onShutdown?.();
      // Probes need no answer once we are going: the ops listener closes at once.
      ops.close();
      ops.closeAllConnections();
      let exitCode = 0;
      const force = setTimeout(() => {
        logger.error('requests still in flight after the grace period; closing their connections', { grace_ms: SHUTDOWN_GRACE_MS });
        exitCode = 1;
        server.closeAllConnections();
      }, SHUTDOWN_GRACE_MS);
      server.close(() => {
        clearTimeout(force);
        void graph.driver.close().then(() => process.exit(exitCode));
      });
      server.closeIdleConnections();
    });
  }
}

if (require.main === module) {
  serve().catch((error: Error) => {
    process.stderr.write(`Start-up failed: ${error.message}\n`);
    process.exit(1);
  });
}
