/**
 * What a caller is told when the origin's key cannot be had (issue 19, items 1 and 4): the X-Matrix middleware on
 * a real Express listener, with the real body parser, error middleware and key fetcher, whose peers are loopback
 * HTTPS servers (test/fixtures/tls). 127.0.0.1 stands for a public address here; every other private address is
 * refused, as in production. The caller gets one sentence per class, whatever the cause; the cause goes to our log.
 */
import express from 'express';
import { readFileSync } from 'node:fs';
import { createServer, Server as HttpsServer } from 'node:https';
import type { Server as HttpServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Driver } from 'neo4j-driver';
import { generateSigningKey, SigningKey, signJson } from '../../src/core/signing';
import { signRequest } from '../../src/core/x-matrix';
import { createHttpsFetchJson, systemResolveAddresses } from '../../src/federation/https-client';
import { KeyFetcher } from '../../src/federation/key-fetcher';
import { ServerDiscovery } from '../../src/federation/server-discovery';
import { errorHandler } from '../../src/http/errors';
import { jsonBody } from '../../src/http/json-body';
import { authenticatedOrigin, xMatrixAuth } from '../../src/http/x-matrix-auth';
import { createLogger } from '../../src/logger';
import { Neo4jServerKeyStore } from '../../src/store/server-key-store';
import { freePort } from '../helpers/free-ports';
import { openTestDriver, testNeo4j } from '../helpers/neo4j';

const TLS_DIR = join(__dirname, '..', 'fixtures', 'tls');
const CERTIFICATE = readFileSync(join(TLS_DIR, 'localhost.crt'), 'utf8');
const PRIVATE_KEY = readFileSync(join(TLS_DIR, 'localhost.key'), 'utf8');
const US = 'us.example';
const PATH = '/_matrix/federation/v1/get_missing_events/!room:us.example';
const NO_KEY = 'The origin server has no key of that ID that may sign this request.';
const UNAVAILABLE = "The origin server's signing keys could not be fetched.";

let driver: Driver;
const closeAfter: (HttpServer | HttpsServer)[] = [];

beforeAll(async () => {
  driver = await openTestDriver();
});

afterEach(async () => {
  for (const server of closeAfter.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

afterAll(async () => {
  await driver?.close();
});

interface Service {
  readonly url: string;
  /** The JSON lines the service logged. */
  readonly logged: Record<string, unknown>[];
}

/** The middleware with a key fetcher as main.ts builds it, but trusting our test certificate (unless told not to). */
async function startService(options: { maxWaiting?: number; timeoutMs?: number; trustOurCertificate?: boolean } = {}): Promise<Service> {
  const logged: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logged.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger('info', false, stream);
  const fetchJson = createHttpsFetchJson({
    verifyTls: true,
    allowPrivateAddresses: false,
    extraCaCertificates: options.trustOurCertificate === false ? [] : [CERTIFICATE],
    // inward.test stands for a name of our own network, nosuch.test for one that does not exist (answered as
    // getaddrinfo answers, whatever DNS this machine can reach).
    resolveAddresses: async (hostname) => {
      if (hostname === 'inward.test') return [{ address: '10.20.30.40', family: 4 }];
      if (hostname === 'nosuch.test') throw Object.assign(new Error('getaddrinfo ENOTFOUND nosuch.test'), { code: 'ENOTFOUND' });
      return systemResolveAddresses(hostname);
    },
    isAllowedAddress: (address) => address === '127.0.0.1',
  });
  const keyFetcher = new KeyFetcher(
    {
      fetchJson,
      discovery: new ServerDiscovery({ fetchJson, resolveSrv: async () => [], now: Date.now }),
      store: new Neo4jServerKeyStore({ driver, database: testNeo4j().database }),
      now: Date.now,
      logger,
    },
    { timeoutMs: options.timeoutMs ?? 5000, maxWaiting: options.maxWaiting },
  );
  const answerOrigin: express.RequestHandler = (_req, res) => {
    res.json({ origin: authenticatedOrigin(res) });
  };
  const app = express();
  app.post(
    '/_matrix/federation/v1/get_missing_events/:roomId',
    jsonBody(1024 * 1024),
    xMatrixAuth({ serverName: US, keyFetcher, now: Date.now, logger }),
    answerOrigin,
  );
  app.use(errorHandler(logger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  closeAfter.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logged };
}

/** A loopback HTTPS server that answers with `key`'s self-signed key response, or as `answer` says. */
async function startKeyServer(
  key: SigningKey,
  answer: 'keys' | 'hang' = 'keys',
): Promise<{ name: string; requests: () => number }> {
  let requests = 0;
  let name = '';
  const server = createServer({ key: PRIVATE_KEY, cert: CERTIFICATE }, (_req, res) => {
    requests++;
    if (answer === 'hang') return;
    const body = signJson(
      { server_name: name, valid_until_ts: Date.now() + 86_400_000, verify_keys: { [key.keyId]: { key: key.publicKey } } },
      name,
      key,
    );
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeAfter.push(server);
  name = `localhost:${(server.address() as AddressInfo).port}`;
  return { name, requests: () => requests };
}

async function post(service: Service, origin: string, key: SigningKey, body: unknown = { latest_events: ['$a'] }) {
  const authorization = signRequest({ method: 'POST', uri: PATH, origin, destination: US, content: body, key });
  const response = await fetch(`${service.url}${PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

function newKey(): SigningKey {
  return generateSigningKey(`t${Math.random().toString(36).slice(2, 10)}`);
}

describe('401 answers name the class, not the cause (issue 19, item 4)', () => {
  it('gives one sentence for every way a fetch fails, and logs the cause at info', async () => {
    const service = await startService({ timeoutMs: 500 });
    const closed = await freePort();
    const hanging = await startKeyServer(newKey(), 'hang');
    const origins = [
      'inward.test:8448', // resolves to a private address
      'nosuch.test:8448', // no such name
      `127.0.0.1:${closed}`, // connection refused
      hanging.name, // no answer in time
    ];
    for (const origin of origins) {
      await expect(post(service, origin, newKey())).resolves.toEqual({
        status: 401,
        body: { errcode: 'M_UNAUTHORIZED', error: UNAVAILABLE },
      });
    }
    const causes = service.logged
      .filter((line) => line.message === 'no key to verify the request')
      .map((line) => [line.level, line.origin, line.reason]);
    expect(causes).toEqual([
      ['info', origins[0], expect.stringContaining('refusing to connect to inward.test: it resolves to the private address 10.20.30.40')],
      ['info', origins[1], expect.stringContaining('getaddrinfo ENOTFOUND nosuch.test')],
      ['info', origins[2], expect.stringContaining('ECONNREFUSED')],
      ['info', origins[3], expect.stringMatching(/no answer from https:\/\/localhost:\d+\/_matrix\/key\/v2\/server within \d+ ms/)],
    ]);
  });

  it('gives the same sentence for a certificate we do not trust', async () => {
    const service = await startService({ trustOurCertificate: false });
    const key = newKey();
    const origin = await startKeyServer(key);
    await expect(post(service, origin.name, key)).resolves.toEqual({ status: 401, body: { errcode: 'M_UNAUTHORIZED', error: UNAVAILABLE } });
    expect(origin.requests()).toBe(0);
    expect(service.logged.find((line) => line.message === 'no key to verify the request')?.reason).toEqual(
      expect.stringContaining('self-signed certificate'),
    );
  });

  it('says "no key" when the origin answers without the key, and names the bad signature otherwise', async () => {
    const service = await startService();
    const key = newKey();
    const origin = await startKeyServer(key);
    await expect(post(service, origin.name, newKey())).resolves.toEqual({ status: 401, body: { errcode: 'M_UNAUTHORIZED', error: NO_KEY } });
    const impostor = { ...newKey(), keyId: key.keyId };
    await expect(post(service, origin.name, impostor)).resolves.toEqual({
      status: 401,
      body: { errcode: 'M_UNAUTHORIZED', error: `The X-Matrix signature by ${key.keyId} of ${origin.name} does not verify.` },
    });
    await expect(post(service, origin.name, key)).resolves.toEqual({ status: 200, body: { origin: origin.name } });
  });
});

describe('a bounded number of requests wait on key fetches (issue 19, item 1)', () => {
  it('answers 503 at once beyond the bound, while the first requests wait on a hanging key server', async () => {
    const service = await startService({ maxWaiting: 2, timeoutMs: 3000 });
    const hanging = await startKeyServer(newKey(), 'hang');
    const body = { latest_events: ['$a'], padding: 'x'.repeat(100_000) };
    const waiting = [post(service, hanging.name, newKey(), body), post(service, hanging.name, newKey(), body)];
    for (let waited = 0; hanging.requests() === 0; waited += 10) {
      if (waited > 30_000) throw new Error('the key server was never asked');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The two are still waiting (the budget is 3 s); the third is not kept.
    await expect(post(service, hanging.name, newKey(), body)).resolves.toEqual({
      status: 503,
      body: { errcode: 'M_UNAVAILABLE', error: 'Too many requests are waiting for signing keys; retry shortly.' },
    });
    await expect(Promise.all(waiting)).resolves.toEqual([
      { status: 401, body: { errcode: 'M_UNAUTHORIZED', error: UNAVAILABLE } },
      { status: 401, body: { errcode: 'M_UNAUTHORIZED', error: UNAVAILABLE } },
    ]);
    expect(hanging.requests()).toBe(1);
  });
});
