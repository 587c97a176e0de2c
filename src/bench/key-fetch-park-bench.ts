/**
 * node --expose-gc dist/src/bench/key-fetch-park-bench.js [--requests 150] [--body-kb 900] [--mode cut|stall]
 *   [--timeout-ms 10000]
 *
 * Requests parked on a key server that misbehaves (issue 19, item 1), on a real loopback listener with the real
 * body parser, X-Matrix middleware, key fetcher and HTTPS client (KEY_FETCH_MAX_WAITING at its default,
 * KEY_FETCH_TIMEOUT_MS as --timeout-ms: longer than the upload to see the requests parked in `stall` mode), and a real loopback HTTPS key server (test/fixtures/tls; the client does not verify it):
 *  - `cut`: the key server sends its headers and part of the body, then closes the connection;
 *  - `stall`: it sends its headers and part of the body, then nothing more, keeping the connection open.
 * N requests signed by that origin with a key it does not have, each with a body of about `--body-kb` kB, are sent
 * at once from a child process (so that their bodies are not in the heap measured). Prints the service's heap
 * (after a full GC) before, once every body has been parsed (each request then answered or waiting on the key
 * fetch), and once all were answered (or at the 60 s cap); the answers; and when the last was answered.
 */
import express from 'express';
import { fork } from 'node:child_process';
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
      'timeout-ms': { type: 'string', default: '10000' },
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

  // localhost is 127.0.0.1 here, whatever order the system resolver gives its addresses in.
  const fetchJson = createHttpsFetchJson({
    verifyTls: false,
    allowPrivateAddresses: true,
    resolveAddresses: async () => [{ address: '127.0.0.1', family: 4 }],
  });
  const store: ServerKeyStore = { load: async () => undefined, save: async () => {} };
  const now = Date.now;
  const keyFetcher = new KeyFetcher(
    { fetchJson, discovery: new ServerDiscovery({ fetchJson, resolveSrv: async () => [], now }), store, now },
    { timeoutMs: Number(values['timeout-ms']) },
  );
  const logger = createLogger('error', true);
  const answerOrigin: express.RequestHandler = (_req, res) => {
    res.json({ origin: authenticatedOrigin(res) });
  };
  const app = express();
  let parsed = 0;
  let finished = 0;
  const countParsed: express.RequestHandler = (_req, res, next) => {
    parsed++;
    res.on('finish', () => finished++);
    next();
  };
  app.post(
    '/_matrix/federation/v1/get_missing_events/:roomId',
    jsonBody(1024 * 1024),
    countParsed,
    xMatrixAuth({ serverName: US, keyFetcher, now, logger }),
    answerOrigin,
  );
  app.use(errorHandler(logger));
  const listener = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}${PATH}`;

  const heapMb = () => {
    gc();
    return (process.memoryUsage().heapUsed / 1024 / 1024).toFixed(1);
  };
  const before = heapMb();
  // The requests come from another process, so that their bodies are not in the heap measured here.
  const client = fork(__filename, ['--client', url, origin, String(requests), String(bodyKb)], { execArgv: [] });
  const reports: ClientReport[] = [];
  client.on('message', (report: ClientReport) => reports.push(report));
  const untilReport = async (kind: ClientReport['kind'], capMs: number) => {
    for (let waited = 0; waited < capMs && !reports.some((r) => r.kind === kind); waited += 50)
      await new Promise((resolve) => setTimeout(resolve, 50));
    return reports.find((r) => r.kind === kind);
  };
  const sending = await untilReport('sending', 30_000);
  if (sending === undefined) throw new Error('the client did not start');
  // Once every body has been read and parsed, the requests are either answered or parked on the key fetch.
  const sendingStarted = performance.now();
  while (parsed < requests && performance.now() - sendingStarted < SETTLE_CAP_MS) await new Promise((resolve) => setTimeout(resolve, 20));
  const allParsedMs = performance.now() - sendingStarted;
  // A second more, for the requests read but not yet through authentication (the CPU is the bottleneck here).
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const parked = heapMb();
  const progress = finished;
  const done = await untilReport('done', SETTLE_CAP_MS);
  const after = heapMb();
  client.kill();

  console.log(`mode ${mode}: ${requests} requests of ${bodyKb} kB signed by ${origin} with a key it does not have`);
  console.log(
    `service heap used (after GC): before ${before} MB; once all ${requests} bodies were parsed ` +
      `(${(allParsedMs / 1000).toFixed(1)} s) and 1 s more, when ${progress} were answered: ${parked} MB; at the end ${after} MB`,
  );
  const answered = reports.filter((r): r is ClientReport & { kind: 'answered' } => r.kind === 'answered');
  const statuses = new Map<string, number>();
  for (const r of answered) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  console.log(`answers: ${[...statuses].map(([status, count]) => `${count} x ${status}`).join('; ') || 'none'}`);
  console.log(
    done !== undefined
      ? `all answered; the last ${(Math.max(...answered.map((r) => r.ms)) / 1000).toFixed(1)} s after sending`
      : `${requests - answered.length} still waiting after ${SETTLE_CAP_MS / 1000} s`,
  );
  console.log(`requests to the key server: ${keyRequests}`);
  listener.closeAllConnections();
  keyServer.closeAllConnections();
  listener.close();
  keyServer.close();
  process.exit(0);
}

type ClientReport =
  | { readonly kind: 'sending' }
  /** The status and the start of the body. */
  | { readonly kind: 'answered'; readonly status: string; readonly ms: number }
  | { readonly kind: 'done' };

/** The client process: sends the requests at once and reports each answer to the parent. */
async function client(url: string, origin: string, requests: number, bodyKb: number): Promise<void> {
  const report = (message: ClientReport) => process.send?.(message);
  const stranger = generateSigningKey('stranger');
  const bodies = Array.from({ length: requests }, (_, i) => {
    const content = { latest_events: ['$a'], padding: `${i}`.padEnd(bodyKb * 1024, 'x') };
    const authorization = signRequest({ method: 'POST', uri: PATH, origin, destination: US, content, key: stranger });
    return { authorization, body: JSON.stringify(content) };
  });
  report({ kind: 'sending' });
  const started = performance.now();
  await Promise.all(
    bodies.map(({ authorization, body }) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body })
        .then(async (response) => {
          const text = await response.text();
          return `${response.status} ${text.slice(0, 100)}`;
        })
        .catch((error: unknown) => (error instanceof Error ? error.message : String(error)))
        .then((status) => report({ kind: 'answered', status, ms: performance.now() - started })),
    ),
  );
  report({ kind: 'done' });
}

const [mark, ...clientArgs] = process.argv.slice(2);
(mark === '--client'
  ? client(clientArgs[0]!, clientArgs[1]!, Number(clientArgs[2]), Number(clientArgs[3]))
  : main()
).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
