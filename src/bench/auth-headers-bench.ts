/**
 * node dist/src/bench/auth-headers-bench.js [--headers 240] [--body-kb 185]
 *
 * What many `Authorization: X-Matrix` headers on one request cost the X-Matrix middleware (issue 19, item 2), on a
 * real loopback listener with the real body parser, middleware and key fetcher:
 *  - `many origins`: one request with N headers naming N different origins; prints how many key fetches (HTTPS
 *    requests and SRV lookups) it started. The fetches are counted by the fetch function handed to the key fetcher,
 *    which answers each with a connection failure at once, so nothing leaves the machine.
 *  - `one origin, bad signatures`: N headers of one origin whose keys are already known, each with a well-formed but
 *    wrong signature, over a JSON body of about `--body-kb` kB; prints the request's time and the event loop's
 *    longest stall while it was handled.
 * The listener allows 64 KiB of headers (node's default is 16 KiB) so N headers with real-length signatures fit.
 */
import express from 'express';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { generateSigningKey, signJson } from '../core/signing';
import { authorizationHeader } from '../core/x-matrix';
import type { FetchJson } from '../federation/fetch-json';
import { KeyFetcher, type ServerKeyStore } from '../federation/key-fetcher';
import { ServerDiscovery } from '../federation/server-discovery';
import { errorHandler } from '../http/errors';
import { jsonBody } from '../http/json-body';
import { authenticatedOrigin, xMatrixAuth } from '../http/x-matrix-auth';
import { createLogger } from '../logger';

const US = 'us.bench';
const ROUTE = '/_matrix/federation/v1/get_missing_events/:roomId';
const PATH = '/_matrix/federation/v1/get_missing_events/%21room%3Aus.bench';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { headers: { type: 'string', default: '240' }, 'body-kb': { type: 'string', default: '185' } } });
  const headerCount = Number(values.headers);
  const bodyKb = Number(values['body-kb']);

  const known = generateSigningKey('bench');
  const cachedOrigin = 'cached.bench';
  const now = Date.now();
  const response = signJson(
    { server_name: cachedOrigin, valid_until_ts: now + 86_400_000, verify_keys: { [known.keyId]: { key: known.publicKey } } },
    cachedOrigin,
    known,
  );
  // Nothing is stored: the first request of cachedOrigin fetches its keys (from fetchJson below), after which the
  // key fetcher holds them in memory.
  const store: ServerKeyStore = { load: async () => undefined, save: async () => {} };
  let fetches = 0;
  let srvLookups = 0;
  const fetchJson: FetchJson = async (url) => {
    fetches++;
    const { host, pathname } = new URL(url);
    if (host === `${cachedOrigin}:8448` && pathname === '/_matrix/key/v2/server') return { status: 200, headers: {}, json: response };
    throw new Error(`connect ECONNREFUSED (bench: ${host} not contacted)`);
  };
  const resolveSrv = async () => {
    srvLookups++;
    return [];
  };
  const keyFetcher = new KeyFetcher({ fetchJson, discovery: new ServerDiscovery({ fetchJson, resolveSrv, now: Date.now }), store, now: Date.now });

  const app = express();
  app.post(ROUTE, jsonBody(4 * 1024 * 1024), xMatrixAuth({ serverName: US, keyFetcher, now: Date.now }), (_req: express.Request, res: express.Response) => {
    res.json({ origin: authenticatedOrigin(res) });
  });
  app.use(errorHandler(createLogger('error', true)));
  const server = createServer({ maxHeaderSize: 64 * 1024 }, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const send = (authorization: string[], body: string) =>
    new Promise<{ status: number; text: string; ms: number }>((resolve, reject) => {
      const started = performance.now();
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: PATH, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
      });
      req.setHeader('authorization', authorization);
      req.on('error', reject);
      req.end(body);
    });

  const badSignature = 'A'.repeat(86);
  const small = JSON.stringify({ latest_events: ['$a'], earliest_events: [], limit: 5 });
  const manyOrigins = Array.from({ length: headerCount }, (_, i) =>
    authorizationHeader({ origin: `o${i}.bench`, destination: US, key: 'ed25519:a', signature: badSignature }),
  );
  const first = await send(manyOrigins, small);
  // The key fetcher's fetches run on after a refusal; give them a moment to start before counting.
  await new Promise((resolve) => setTimeout(resolve, 500));
  console.log(`many origins: ${headerCount} headers -> ${first.status}, ${fetches} HTTPS fetches and ${srvLookups} SRV lookups started, ${first.ms.toFixed(0)} ms`);
  console.log(`  answer: ${first.text.slice(0, 160)}${first.text.length > 160 ? '...' : ''}`);

  const latest = Array.from({ length: Math.ceil((bodyKb * 1024) / 64) }, (_, i) => `$${String(i).padStart(10, '0')}${'x'.repeat(50)}`);
  const bigBody = JSON.stringify({ latest_events: latest, earliest_events: [], limit: 5 });
  const oneOrigin = Array.from({ length: headerCount }, () =>
    authorizationHeader({ origin: cachedOrigin, destination: US, key: known.keyId, signature: badSignature }),
  );
  fetches = 0;
  srvLookups = 0;
  const warmUp = await send([oneOrigin[0]!], bigBody); // the keys fetched, the code warm
  if (!warmUp.text.includes('does not verify')) throw new Error(`the warm-up request did not reach the signature check: ${warmUp.text}`);
  fetches = 0;
  srvLookups = 0;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const second = await send(oneOrigin, bigBody);
  delay.disable();
  console.log(
    `one origin, bad signatures: ${headerCount} headers over a ${(Buffer.byteLength(bigBody) / 1024).toFixed(0)} kB body -> ${second.status} in ${second.ms.toFixed(0)} ms, ` +
      `longest event-loop stall ${(delay.max / 1e6).toFixed(0)} ms, ${fetches} fetches started`,
  );
  console.log(`  answer: ${second.text.slice(0, 160)}${second.text.length > 160 ? '...' : ''}`);

  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
