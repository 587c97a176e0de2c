/**
 * The service as main.ts wires it (event store, Neo4j key store, key fetcher, X-Matrix middleware, createApp) on
 * port 0, for the fuzz properties. Its network is offline: every key fetch and SRV look-up fails at once, so a
 * fuzzed origin never makes us reach out, and only the servers told to the key store (the fixture's) can sign.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSigningKey } from '../core/signing';
import type { FetchJson } from '../federation/fetch-json';
import { KeyFetcher } from '../federation/key-fetcher';
import { ServerDiscovery } from '../federation/server-discovery';
import { createApp } from '../http/app';
import { listen } from '../http/client-error';
import { xMatrixAuth } from '../http/x-matrix-auth';
import { createLogger } from '../logger';
import { EventStore } from '../store/event-store';
import type { Graph } from '../store/neo4j';
import { Neo4jServerKeyStore } from '../store/server-key-store';

export const FUZZ_SERVER_NAME = 'us.fuzz.test';
export const FUZZ_LIMITS = { maxLimit: 20, maxLatestEvents: 256, maxEarliestEvents: 4096 };
export const FUZZ_BODY_LIMIT_BYTES = 1024 * 1024;

export interface FuzzService {
  readonly url: string;
  readonly keyStore: Neo4jServerKeyStore;
  close(): Promise<void>;
}

const offline: FetchJson = async (url) => {
  throw new Error(`the fuzz service is offline (${url})`);
};

export async function startFuzzService(graph: Graph): Promise<FuzzService> {
  const now = Date.now;
  const logger = createLogger('error', true);
  const keyStore = new Neo4jServerKeyStore(graph);
  const keyFetcher = new KeyFetcher(
    { fetchJson: offline, discovery: new ServerDiscovery({ fetchJson: offline, resolveSrv: async () => [], now }), store: keyStore, now },
    { timeoutMs: 1000 },
  );
  const app = createApp({
    missingEvents: { events: new EventStore(graph), limits: FUZZ_LIMITS },
    server: { serverName: FUZZ_SERVER_NAME, signingKey: generateSigningKey('fuzz') },
    authenticate: xMatrixAuth({ serverName: FUZZ_SERVER_NAME, keyFetcher, now }),
    logger,
    bodyLimitBytes: FUZZ_BODY_LIMIT_BYTES,
  });
  const server: Server = await listen(app, 0, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    keyStore,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
