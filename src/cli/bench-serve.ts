/**
 * The service as `npm run bench -- endpoint` measures it: in a process of its own (forked by bench-endpoint.ts), so
 * the load generator does not share its event loop and its RSS is its own. Built like main.ts (X-Matrix with the
 * key cache in Neo4j, visibility on, a log line per request) but logging to /dev/null. Tells its parent the port it
 * listens on, and answers {rss} messages with its current and peak RSS.
 */
import { createWriteStream } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config';
import { generateSigningKey } from '../core/signing';
import { createHttpsFetchJson, resolveSrv } from '../federation/https-client';
import { KeyFetcher } from '../federation/key-fetcher';
import { ServerDiscovery } from '../federation/server-discovery';
import { createApp } from '../http/app';
import { listen } from '../http/client-error';
import { xMatrixAuth } from '../http/x-matrix-auth';
import { createLogger } from '../logger';
import { connectGraph } from '../store/connect';
import { EventStore } from '../store/event-store';
import { Neo4jServerKeyStore } from '../store/server-key-store';

export const BENCH_SERVER_NAME = 'bench.test';

async function main(): Promise<void> {
  const { graph, close } = await connectGraph(loadConfig(process.env).neo4j);
  // The request log on, as in production (one JSON line per request), written to /dev/null.
  const logger = createLogger('info', false, createWriteStream('/dev/null'));
  const now = Date.now;
  const fetchJson = createHttpsFetchJson({ verifyTls: true, allowPrivateAddresses: false });
  const keyFetcher = new KeyFetcher(
    { fetchJson, discovery: new ServerDiscovery({ fetchJson, resolveSrv, now }), store: new Neo4jServerKeyStore(graph), now, logger },
    { trustedKeyServers: [], timeoutMs: 5_000 },
  );
  const app = createApp({
    missingEvents: { events: new EventStore(graph), limits: { maxLimit: 20, maxLatestEvents: 256, maxEarliestEvents: 4096 } },
    server: { serverName: BENCH_SERVER_NAME, signingKey: generateSigningKey('bench') },
    authenticate: xMatrixAuth({ serverName: BENCH_SERVER_NAME, keyFetcher, now, logger }),
    logger,
    bodyLimitBytes: 1024 * 1024,
  });
  const server = await listen(app, 0, '127.0.0.1');
  process.on('message', (message: unknown) => {
    if (message === 'rss') {
      process.send!({ rss: process.memoryUsage().rss, peak: process.resourceUsage().maxRSS * 1024 });
    } else if (message === 'stop') {
      server.closeAllConnections();
      server.close(() => void close().then(() => process.exit(0)));
    }
  });
  process.send!({ port: (server.address() as AddressInfo).port });
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`bench service failed: ${error.message}\n`);
    process.exit(1);
  });
}
