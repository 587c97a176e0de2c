/**
 * node --expose-gc dist/src/bench/key-fetch-park-bench.js [--requests 150] [--body-kb 900] [--mode cut|stall]
 *
 * Requests parked on a key server that misbehaves (issue 19, item 1), on a real loopback listener with the real
 * body parser, X-Matrix middleware, key fetcher and HTTPS client (KEY_FETCH_TIMEOUT_MS and KEY_FETCH_MAX_WAITING
 * at their defaults), and a real loopback HTTPS key server (test/fixtures/tls; the client does not verify it):
 *  - `cut`: the key server sends its headers and part of the body, then closes the connection;
 *  - `stall`: it sends its headers and part of the body, then nothing more, keeping the connection open.
 * N requests signed by that origin with a key it does not have, each with a body of about `--body-kb` kB, are sent
 * at once. Prints the heap (after a full GC) before, 2 s after they were sent, and once all were answered, the
 * statuses, and how long until the last was answered (or that some were still waiting after 60 s).
 */
import express from 'express';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { generateSigningKey } from '../core/signing';
import { signRequest } from '../core/x-matrix';
import { createHttpsFetchJson } from '../federation/https-client';
import { KeyFetcher, type ServerKeyStore } from '../federation/key-fetcher';
import { ServerDiscovery } from '../federation/server-discovery';
import { errorHandler } from '../http/errors';
import { jsonBody } from '../http/json-body';
import { authenticatedOrigin, xMatrixAuth } from '../http/x-matrix-auth';
import { createLogger } from '../logger';
import { PROJECT_ROOT } from '../paths';

const US = 'us.bench';
const PATH = '/_matrix/federation/v1/get_missing_events/%21room%3Aus.bench';
const SETTLE_CAP_MS = 60_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '150' },
      'body-kb': { type: 'string', default: '900' },
      mode: { type: 'string', default: 'cut' },
    },
  });
  const requests = Number(values.requests);
  const bodyKb = Number(values['body-kb']);
  const mode = values.mode === 'stall' ? 'stall' : 'cut';
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run node with --expose-gc');

  const tls = join(PROJECT_ROOT, 'test', 'fixtures', 'tls');
  let keyRequests = 0;
  const keyServer = createHttpsServer(
    { key: readFileSync(join(tls, 'localhost.key')), cert: readFileSync(join(tls, 'localhost.crt')) },
    (_req, res) => {
      keyRequests++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '10000' });
      res.write('{"server_name":', () => {
        if (mode === 'cut') setTimeout(() => res.socket?.destroy(), 20);
      });
    },
  );
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
  const origin = `localhost:${(keyServer.address() as AddressInfo).port}`;

  const fetchJson = createHttpsFetchJson({ verifyTls: false, allowPrivateAddresses: true });
  const store: ServerKeyStore = { load: async () => undefined, save: async () => {} };
  const now = Date.now;
  const keyFetcher = new KeyFetcher({ fetchJson, discovery: new ServerDiscovery({ fetchJson, resolveSrv: async () => [], now }), store, now });
  const logger = createLogger('error', true);
  const answerOrigin: express.RequestHandler = (_req, res) => {
    res.json({ origin: authenticatedOrigin(res) });
  };
  const app = express();
  app.post('/_matrix/federation/v1/get_missing_events/:roomId', jsonBody(1024 * 1024), xMatrixAuth({ serverName: US, keyFetcher, now, logger }), answerOrigin);
  app.use(errorHandler(logger));
  const listener = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}${PATH}`;

  const heapMb = () => {
    gc();
    return (process.memoryUsage().heapUsed / 1024 / 1024).toFixed(1);
  };
  const before = heapMb();
  const stranger = generateSigningKey('stranger');
  const statuses = new Map<number | string, number>();
  let answered = 0;
  const started = performance.now();
  let lastAnsweredMs = 0;
  const sent = Array.from({ length: requests }, (_, i) => {
    const content = { latest_events: ['$a'], padding: `${i}`.padEnd(bodyKb * 1024, 'x') };
    const authorization = signRequest({ method: 'POST', uri: PATH, origin, destination: US, content, key: stranger });
    return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(content) })
      .then(async (response) => {
        await response.arrayBuffer();
        return response.status;
      })
      .catch((error: unknown) => (error instanceof Error ? error.message : String(error)))
      .then((status) => {
        answered++;
        lastAnsweredMs = performance.now() - started;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      });
  });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const parked = heapMb();
  const answeredAt2s = answered;
  const settled = await Promise.race([
    Promise.all(sent).then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), SETTLE_CAP_MS)),
  ]);
  const after = heapMb();

  console.log(`mode ${mode}: ${requests} requests of ${bodyKb} kB signed by ${origin} with a key it does not have`);
  console.log(`heap used (after GC): before ${before} MB, 2 s after sending ${parked} MB (${answeredAt2s} answered by then), at the end ${after} MB`);
  console.log(`statuses: ${[...statuses].map(([status, count]) => `${status} x${count}`).join(', ')}`);
  console.log(
    settled
      ? `all answered; the last ${(lastAnsweredMs / 1000).toFixed(1)} s after sending`
      : `${requests - answered} still waiting after ${SETTLE_CAP_MS / 1000} s`,
  );
  console.log(`requests to the key server: ${keyRequests}`);
  listener.closeAllConnections();
  keyServer.closeAllConnections();
  listener.close();
  keyServer.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
