/**
 * The key fetcher against real HTTPS listeners on loopback (node:https with the self-signed certificate in
 * test/fixtures/tls) and the real Neo4j store. Each test starts its own servers, so its server names
 * (`localhost:<port>`) are its own, and signs with freshly generated keys, so a record a previous run left for the
 * same port never holds the key a test asks for. The clock is passed in and starts at the real time.
 */
import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import type { Driver } from 'neo4j-driver';
import { generateSigningKey, SigningKey, signJson } from '../../src/core/signing';
import { createHttpsFetchJson, type HttpsClientOptions } from '../../src/federation/https-client';
import { KeyFetcher, KeyFetcherOptions, TrustedKeyServer } from '../../src/federation/key-fetcher';
import { ServerDiscovery } from '../../src/federation/server-discovery';
import { openGraph } from '../../src/store/neo4j';
import { Neo4jServerKeyStore } from '../../src/store/server-key-store';
import { freePort } from '../helpers/free-ports';
import { openTestDriver, testNeo4j } from '../helpers/neo4j';

const TLS_DIR = join(__dirname, '..', 'fixtures', 'tls');
const CERTIFICATE = readFileSync(join(TLS_DIR, 'localhost.crt'), 'utf8');
const PRIVATE_KEY = readFileSync(join(TLS_DIR, 'localhost.key'), 'utf8');
const DAY = 24 * 60 * 60 * 1000;

interface Answer {
  readonly status: number;
  readonly body: unknown;
  /** Milliseconds to wait before answering; Infinity never answers. */
  readonly delayMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Instead of `body`: `count` chunks of `chunk`, one every `intervalMs`, with no Content-Length. */
  readonly stream?: { readonly chunk: string; readonly count: number; readonly intervalMs: number };
  /** Instead of `body`: the headers (Content-Length 10000), these bytes of the body, then the connection closed. */
  readonly cut?: string;
}

interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly host: string | undefined;
  readonly body: unknown;
}

interface TestServer {
  readonly name: string;
  readonly port: number;
  readonly requests: SeenRequest[];
  /** The SNI of each request's connection (false: none was sent). */
  readonly servernames: (string | false | null)[];
  answer: (request: SeenRequest) => Answer;
}

const servers: Server[] = [];
let driver: Driver;
let store: Neo4jServerKeyStore;
let time: number;
const now = () => time;

beforeAll(async () => {
  driver = await openTestDriver();
  store = new Neo4jServerKeyStore({ driver, database: testNeo4j().database });
});

afterAll(async () => {
  await driver?.close();
});

beforeEach(() => {
  time = Date.now();
});

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function startServer(
  answer: TestServer['answer'] = () => ({ status: 404, body: { errcode: 'M_UNRECOGNIZED' } }),
): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const servernames: (string | false | null)[] = [];
  const state = { answer };
  const server = createServer({ key: PRIVATE_KEY, cert: CERTIFICATE }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const seen: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        host: req.headers.host,
        body: text ? JSON.parse(text) : undefined,
      };
      requests.push(seen);
      servernames.push((req.socket as TLSSocket).servername);
      const { status, body, delayMs = 0, headers = {}, stream, cut } = state.answer(seen);
      if (delayMs === Infinity) return;
      setTimeout(() => {
        if (cut !== undefined) {
          res.writeHead(status, { 'content-type': 'application/json', 'content-length': '10000', ...headers });
          res.write(cut, () => setTimeout(() => res.socket?.destroy(), 20));
          return;
        }
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        if (stream === undefined) return res.end(JSON.stringify(body));
        let sent = 0;
        const timer = setInterval(() => {
          if (res.destroyed || sent === stream.count) {
            clearInterval(timer);
            return res.end();
          }
          sent += 1;
          res.write(stream.chunk);
        }, stream.intervalMs);
      }, delayMs);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name: `localhost:${port}`,
    port,
    requests,
    servernames,
    get answer() {
      return state.answer;
    },
    set answer(next) {
      state.answer = next;
    },
  };
}

/** A key response of `serverName` listing `keys`, signed by `signers` (by default the same keys). */
function keyResponse(
  serverName: string,
  keys: SigningKey[],
  options: {
    validUntilTs?: number;
    signers?: SigningKey[];
    old?: Record<string, { key: string; expired_ts: number }>;
    claimedName?: string;
  } = {},
): Record<string, unknown> {
  let json: Record<string, unknown> = {
    server_name: options.claimedName ?? serverName,
    valid_until_ts: options.validUntilTs ?? time + DAY,
    verify_keys: Object.fromEntries(keys.map((key) => [key.keyId, { key: key.publicKey }])),
    old_verify_keys: options.old ?? {},
  };
  for (const signer of options.signers ?? keys) json = signJson(json, serverName, signer);
  return json;
}

function servingKeys(body: () => unknown): TestServer['answer'] {
  return (request) =>
    request.method === 'GET' && request.url === '/_matrix/key/v2/server'
      ? { status: 200, body: body() }
      : { status: 404, body: { errcode: 'M_UNRECOGNIZED' } };
}

function newKey(): SigningKey {
  return generateSigningKey(`t${Math.random().toString(36).slice(2, 10)}`);
}

interface FetcherSettings extends KeyFetcherOptions, Pick<HttpsClientOptions, 'maxResponseBytes' | 'resolveAddresses' | 'isAllowedAddress'> {
  readonly verifyTls?: boolean;
  readonly allowPrivateAddresses?: boolean;
  readonly trustOurCertificate?: boolean;
}

function makeFetcher(settings: FetcherSettings = {}): KeyFetcher {
  const fetchJson = createHttpsFetchJson({
    verifyTls: settings.verifyTls ?? true,
    allowPrivateAddresses: settings.allowPrivateAddresses ?? true,
    extraCaCertificates: settings.trustOurCertificate === false ? [] : [CERTIFICATE],
    maxResponseBytes: settings.maxResponseBytes,
    resolveAddresses: settings.resolveAddresses,
    isAllowedAddress: settings.isAllowedAddress,
  });
  // The names in these tests carry ports, so discovery stops at step 2 and never looks up SRV records.
  const discovery = new ServerDiscovery({ fetchJson, resolveSrv: async () => [], now });
  return new KeyFetcher(
    { fetchJson, discovery, store, now },
    { minRefetchIntervalMs: 0, timeoutMs: 5000, ...settings },
  );
}

describe('fetching from the server itself', () => {
  it('fetches GET /_matrix/key/v2/server with the server name as Host, then answers from memory', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key]));
    const fetcher = makeFetcher();

    await expect(fetcher.getVerifyKey(server.name, key.keyId, time)).resolves.toEqual({
      ok: true,
      publicKey: key.publicKey,
    });
    await expect(fetcher.getVerifyKey(server.name, key.keyId, time)).resolves.toEqual({
      ok: true,
      publicKey: key.publicKey,
    });
    expect(server.requests).toEqual([
      { method: 'GET', url: '/_matrix/key/v2/server', host: server.name, body: undefined },
    ]);
  });

  it('makes one request for concurrent callers', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = (request) => ({ ...servingKeys(() => keyResponse(server.name, [key]))(request), delayMs: 100 });
    const fetcher = makeFetcher();

    const results = await Promise.all(
      Array.from({ length: 8 }, () => fetcher.getVerifyKey(server.name, key.keyId, time)),
    );
    expect(results).toEqual(Array.from({ length: 8 }, () => ({ ok: true, publicKey: key.publicKey })));
    expect(server.requests).toHaveLength(1);
  });

  it('fetches again once valid_until_ts has passed', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key], { validUntilTs: time + 60_000 }));
    const fetcher = makeFetcher();

    await expect(fetcher.getVerifyKey(server.name, key.keyId, time)).resolves.toMatchObject({ ok: true });
    time += 60_000;
    await expect(fetcher.getVerifyKey(server.name, key.keyId, time)).resolves.toMatchObject({ ok: true });
    expect(server.requests).toHaveLength(1);

    time += 1;
    await expect(fetcher.getVerifyKey(server.name, key.keyId, time)).resolves.toEqual({
      ok: true,
      publicKey: key.publicKey,
    });
    expect(server.requests).toHaveLength(2);
  });

  it('refuses an expired key when the fresh response has expired too', async () => {
    const key = newKey();
    const server = await startServer();
    const validUntilTs = time - 1;
    server.answer = servingKeys(() => keyResponse(server.name, [key], { validUntilTs }));
    const result = await makeFetcher().getVerifyKey(server.name, key.keyId, time);
    expect(result).toEqual({
      ok: false,
      problem: 'unknown-key',
      message: 'The origin server has no key of that ID that may sign this request.',
      reason: `key ${key.keyId} of ${server.name} is valid only until ${validUntilTs}`,
    });
  });

  it('uses a key from old_verify_keys only for signatures made before its expired_ts', async () => {
    const key = newKey();
    const oldKey = newKey();
    const expiredTs = time - 1000;
    const server = await startServer();
    server.answer = servingKeys(() =>
      keyResponse(server.name, [key], { old: { [oldKey.keyId]: { key: oldKey.publicKey, expired_ts: expiredTs } } }),
    );
    const fetcher = makeFetcher();

    await expect(fetcher.getVerifyKey(server.name, oldKey.keyId, expiredTs - 1)).resolves.toEqual({
      ok: true,
      publicKey: oldKey.publicKey,
    });
    await expect(fetcher.getVerifyKey(server.name, oldKey.keyId, expiredTs)).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining(`key ${oldKey.keyId} of ${server.name} expired at ${expiredTs}`),
    });
    await expect(
      fetcher.getVerifyKey(server.name, oldKey.keyId, expiredTs - 1, { allowOldKeys: false }),
    ).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining('is an old key, which may not sign requests'),
    });
  });

  it('does not ask again within minRefetchIntervalMs for a key the server did not have', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key]));
    const fetcher = makeFetcher({ minRefetchIntervalMs: 60_000 });

    await expect(fetcher.getVerifyKey(server.name, key.keyId, time)).resolves.toMatchObject({ ok: true });
    await expect(fetcher.getVerifyKey(server.name, 'ed25519:madeup', time)).resolves.toEqual({
      ok: false,
      problem: 'unknown-key',
      message: 'The origin server has no key of that ID that may sign this request.',
      reason: `unknown key ed25519:madeup of ${server.name}`,
    });
    expect(server.requests).toHaveLength(1);

    const rotated = newKey();
    server.answer = servingKeys(() => keyResponse(server.name, [rotated]));
    time += 60_000;
    await expect(fetcher.getVerifyKey(server.name, rotated.keyId, time)).resolves.toEqual({
      ok: true,
      publicKey: rotated.publicKey,
    });
    expect(server.requests).toHaveLength(2);
  });
});

describe('the Neo4j store', () => {
  it('lets a new fetcher (a restart) answer without fetching', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key], { validUntilTs: time + 30 * DAY }));
    await expect(makeFetcher().getVerifyKey(server.name, key.keyId, time)).resolves.toMatchObject({ ok: true });

    const stored = await store.load(server.name);
    expect(stored).toMatchObject({
      fetchedTs: time,
      validUntilTs: time + 7 * DAY,
      response: { server_name: server.name },
    });

    time += 1000;
    await expect(makeFetcher().getVerifyKey(server.name, key.keyId, time)).resolves.toEqual({
      ok: true,
      publicKey: key.publicKey,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('keeps the later of two saves', async () => {
    const serverName = `store-${Math.random().toString(36).slice(2)}.example`;
    const response = { server_name: serverName };
    await store.save(serverName, { response: { ...response, n: 2 }, fetchedTs: 2000, validUntilTs: 3000 });
    await store.save(serverName, { response: { ...response, n: 1 }, fetchedTs: 1000, validUntilTs: 9000 });
    await expect(store.load(serverName)).resolves.toEqual({
      response: { ...response, n: 2 },
      fetchedTs: 2000,
      earlier: [],
      validUntilTs: 3000,
    });
    await expect(store.load(`${serverName}.unknown`)).resolves.toBeUndefined();
  });
});

describe('the Neo4j store unavailable', () => {
  it('answers unavailable at once, asks no one, and reads the store again on the next lookup', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key], { validUntilTs: time + 30 * DAY }));
    await makeFetcher().getVerifyKey(server.name, key.keyId, time); // now in the store
    expect(server.requests).toHaveLength(1);

    // A real driver to a port nothing listens on: the store's read fails as it does when Neo4j is down.
    const closed = await freePort(); // nothing listens on it
    const down = openGraph({ uri: `bolt://127.0.0.1:${closed}` });
    const stores = { current: new Neo4jServerKeyStore(down) };
    const fetchJson = createHttpsFetchJson({ verifyTls: true, allowPrivateAddresses: true, extraCaCertificates: [CERTIFICATE] });
    const fetcher = new KeyFetcher(
      {
        fetchJson,
        discovery: new ServerDiscovery({ fetchJson, resolveSrv: async () => [], now }),
        store: { load: (name) => stores.current.load(name), save: (name, keys) => stores.current.save(name, keys) },
        now,
      },
      { minRefetchIntervalMs: 0, timeoutMs: 5000 },
    );
    try {
      const lookup = await fetcher.getVerifyKey(server.name, key.keyId, time);
      expect(lookup).toEqual({
        ok: false,
        unavailable: true,
        problem: 'store-unavailable',
        message: "The origin server's signing keys cannot be read at the moment; retry shortly.",
        reason: expect.stringMatching(new RegExp(`^the stored keys of ${server.name} cannot be read: `)),
      });
      expect(server.requests).toHaveLength(1);

      stores.current = store; // Neo4j is back
      await expect(fetcher.getVerifyKey(server.name, key.keyId, time)).resolves.toEqual({ ok: true, publicKey: key.publicKey });
      expect(server.requests).toHaveLength(1);
    } finally {
      await down.driver.close();
    }
  });
});

describe('rejecting bad key responses', () => {
  it('rejects a response not signed by its own verify key', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key], { signers: [newKey()] }));
    await expect(makeFetcher().getVerifyKey(server.name, key.keyId, time)).resolves.toEqual({
      ok: false,
      problem: 'keys-unavailable',
      message: "The origin server's signing keys could not be fetched.",
      reason: `unknown key ${key.keyId} of ${server.name}; fetching from ${server.name} failed: the key response is not signed by any of its own ed25519 verify_keys`,
    });
  });

  it('rejects a response whose self-signature does not verify', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => ({ ...keyResponse(server.name, [key]), valid_until_ts: time + 2 * DAY }));
    await expect(makeFetcher().getVerifyKey(server.name, key.keyId, time)).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining(`the key response's signature by ${key.keyId} does not verify`),
    });
  });

  it('rejects a response for another server_name', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse('other.example', [key]));
    await expect(makeFetcher().getVerifyKey(server.name, key.keyId, time)).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining(`the key response is for server_name "other.example", not ${server.name}`),
    });
  });

  it('reports an HTTP error', async () => {
    const server = await startServer(() => ({ status: 500, body: { errcode: 'M_UNKNOWN' } }));
    await expect(makeFetcher().getVerifyKey(server.name, 'ed25519:a', time)).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining('GET /_matrix/key/v2/server answered HTTP 500'),
    });
  });
});

describe('notaries', () => {
  async function startNotary(notaryKey: SigningKey, relay: (body: unknown) => unknown[]): Promise<TestServer> {
    return startServer((request) =>
      request.method === 'POST' && request.url === '/_matrix/key/v2/query'
        ? { status: 200, body: { server_keys: relay(request.body) } }
        : { status: 404, body: { errcode: 'M_UNRECOGNIZED' } },
    );
  }

  function trusting(notary: TestServer, notaryKey: SigningKey): TrustedKeyServer[] {
    return [{ serverName: notary.name, verifyKeys: { [notaryKey.keyId]: notaryKey.publicKey } }];
  }

  it('asks a notary when the server does not answer, and checks both signatures', async () => {
    const key = newKey();
    const notaryKey = newKey();
    const target = await startServer(() => ({ status: 502, body: {} }));
    const notary = await startNotary(notaryKey, () => [
      signJson(keyResponse(target.name, [key]), notary.name, notaryKey),
    ]);
    const fetcher = makeFetcher({ trustedKeyServers: trusting(notary, notaryKey) });

    await expect(fetcher.getVerifyKey(target.name, key.keyId, time)).resolves.toEqual({
      ok: true,
      publicKey: key.publicKey,
    });
    expect(target.requests).toHaveLength(1);
    expect(notary.requests).toEqual([
      {
        method: 'POST',
        url: '/_matrix/key/v2/query',
        host: notary.name,
        body: { server_keys: { [target.name]: { [key.keyId]: { minimum_valid_until_ts: time } } } },
      },
    ]);
    await expect(fetcher.getVerifyKey(target.name, key.keyId, time)).resolves.toMatchObject({ ok: true });
    expect(notary.requests).toHaveLength(1);
  });

  it('does not ask a notary when the server answers with the key', async () => {
    const key = newKey();
    const notaryKey = newKey();
    const target = await startServer();
    target.answer = servingKeys(() => keyResponse(target.name, [key]));
    const notary = await startNotary(notaryKey, () => []);
    await expect(
      makeFetcher({ trustedKeyServers: trusting(notary, notaryKey) }).getVerifyKey(target.name, key.keyId, time),
    ).resolves.toMatchObject({ ok: true });
    expect(notary.requests).toHaveLength(0);
  });

  it('rejects keys the notary signed with a key we do not trust', async () => {
    const key = newKey();
    const notaryKey = newKey();
    const target = await startServer(() => ({ status: 502, body: {} }));
    const notary = await startNotary(notaryKey, () => [
      signJson(keyResponse(target.name, [key]), notary.name, newKey()),
    ]);
    await expect(
      makeFetcher({ trustedKeyServers: trusting(notary, notaryKey) }).getVerifyKey(target.name, key.keyId, time),
    ).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining(
        `asking the notary ${notary.name} failed: the response is not signed by the notary ${notary.name} with any of its configured keys`,
      ),
    });
  });

  it('rejects keys the notary signed but the server did not', async () => {
    const key = newKey();
    const notaryKey = newKey();
    const target = await startServer(() => ({ status: 502, body: {} }));
    const notary = await startNotary(notaryKey, () => [
      signJson(keyResponse(target.name, [key], { signers: [newKey()] }), notary.name, notaryKey),
    ]);
    await expect(
      makeFetcher({ trustedKeyServers: trusting(notary, notaryKey) }).getVerifyKey(target.name, key.keyId, time),
    ).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining('the key response is not signed by any of its own ed25519 verify_keys'),
    });
  });
});

describe('the network edge', () => {
  it('refuses a name that resolves to a private address unless allowed', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key]));
    const result = await makeFetcher({ allowPrivateAddresses: false }).getVerifyKey(server.name, key.keyId, time);
    expect(result).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        /refusing to connect to localhost: it resolves to the private address (127\.0\.0\.1|::1)/,
      ),
    });
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a private IP literal unless allowed', async () => {
    const key = newKey();
    const server = await startServer();
    const name = `127.0.0.1:${server.port}`;
    server.answer = servingKeys(() => keyResponse(name, [key]));
    await expect(
      makeFetcher({ allowPrivateAddresses: false }).getVerifyKey(name, key.keyId, time),
    ).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining('refusing to connect to 127.0.0.1: it is a private address'),
    });
    expect(server.requests).toHaveLength(0);
    // Allowed, the certificate is checked against the IP address, which it names.
    await expect(makeFetcher().getVerifyKey(name, key.keyId, time)).resolves.toEqual({
      ok: true,
      publicKey: key.publicKey,
    });
  });

  it('gives up on a server that does not answer in time', async () => {
    const server = await startServer(() => ({ status: 200, body: {}, delayMs: Infinity }));
    await expect(makeFetcher({ timeoutMs: 300 }).getVerifyKey(server.name, 'ed25519:a', time)).resolves.toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        new RegExp(`no answer from https://localhost:${server.port}/_matrix/key/v2/server within (300|29\\d) ms`),
      ),
    });
  });

  it('verifies TLS certificates unless told not to', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key]));
    await expect(
      makeFetcher({ trustOurCertificate: false }).getVerifyKey(server.name, key.keyId, time),
    ).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining('self-signed certificate'),
    });
    expect(server.requests).toHaveLength(0);
    await expect(
      makeFetcher({ trustOurCertificate: false, verifyTls: false }).getVerifyKey(server.name, key.keyId, time),
    ).resolves.toEqual({
      ok: true,
      publicKey: key.publicKey,
    });
  });

  it('refuses a response larger than the cap', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => ({ ...keyResponse(server.name, [key]), padding: 'x'.repeat(2 * 1024 * 1024) }));
    await expect(makeFetcher().getVerifyKey(server.name, key.keyId, time)).resolves.toMatchObject({
      ok: false,
      reason: expect.stringMatching(/the response from .* is (more than )?\d+ bytes/),
    });
  });

  it('refuses a response sent without Content-Length once it passes the cap', async () => {
    const server = await startServer(() => ({ status: 200, body: undefined, stream: { chunk: 'x'.repeat(1024), count: 200, intervalMs: 1 } }));
    await expect(makeFetcher({ maxResponseBytes: 64 * 1024 }).getVerifyKey(server.name, 'ed25519:a', time)).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining(`the response from https://localhost:${server.port}/_matrix/key/v2/server is more than 65536 bytes`),
    });
  });

  it('gives up on a server that sends its answer a byte at a time, at the same deadline', async () => {
    const server = await startServer(() => ({ status: 200, body: undefined, stream: { chunk: ' ', count: 100, intervalMs: 50 } }));
    const started = Date.now();
    await expect(makeFetcher({ timeoutMs: 300 }).getVerifyKey(server.name, 'ed25519:a', time)).resolves.toMatchObject({
      ok: false,
      reason: expect.stringMatching(new RegExp(`no answer from https://localhost:${server.port}/_matrix/key/v2/server within (300|29\\d) ms`)),
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('follows no redirect: a 302 to a server that would answer is a failure, and that server is never asked', async () => {
    const key = newKey();
    const elsewhere = await startServer();
    elsewhere.answer = servingKeys(() => keyResponse(server.name, [key]));
    const server = await startServer(() => ({
      status: 302,
      body: {},
      headers: { location: `https://localhost:${elsewhere.port}/_matrix/key/v2/server` },
    }));
    await expect(makeFetcher().getVerifyKey(server.name, key.keyId, time)).resolves.toEqual({
      ok: false,
      problem: 'keys-unavailable',
      message: "The origin server's signing keys could not be fetched.",
      reason: `unknown key ${key.keyId} of ${server.name}; fetching from ${server.name} failed: GET /_matrix/key/v2/server answered HTTP 302`,
    });
    expect(server.requests).toHaveLength(1);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('connects to the address it checked, looking the name up once (no DNS rebinding), with the name as SNI and Host', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key]));
    // 127.0.0.1 stands for a public address here; the second answer, 127.0.0.2, for an inward one.
    const lookups: string[] = [];
    const resolveAddresses = async (hostname: string) => {
      lookups.push(hostname);
      return [{ address: lookups.length === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
    };
    const fetcher = makeFetcher({ resolveAddresses, isAllowedAddress: (address) => address === '127.0.0.1' });

    await expect(fetcher.getVerifyKey(server.name, key.keyId, time)).resolves.toEqual({ ok: true, publicKey: key.publicKey });
    expect(lookups).toEqual(['localhost']);
    expect(server.requests.map((request) => request.host)).toEqual([server.name]);
    expect(server.servernames).toEqual(['localhost']);

    // The name now answers inward: refused before any connection.
    await expect(fetcher.getVerifyKey(server.name, 'ed25519:rotated', time)).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining('refusing to connect to localhost: it resolves to the private address 127.0.0.2'),
    });
    expect(lookups).toEqual(['localhost', 'localhost']);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a name whose answer mixes public and private addresses', async () => {
    const server = await startServer();
    const resolveAddresses = async () => [
      { address: '127.0.0.1', family: 4 },
      { address: '10.0.0.1', family: 4 },
    ];
    const fetcher = makeFetcher({ resolveAddresses, isAllowedAddress: (address) => address === '127.0.0.1' });
    await expect(fetcher.getVerifyKey(server.name, 'ed25519:a', time)).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining('refusing to connect to localhost: it resolves to the private address 10.0.0.1'),
    });
    expect(server.requests).toHaveLength(0);
  });

  it('backs off a failing server: 1 s, 2 s, 4 s, then 4 s at most, and forgets the failures once it answers', async () => {
    const key = newKey();
    const server = await startServer(() => ({ status: 500, body: { errcode: 'M_UNKNOWN' } }));
    const fetcher = makeFetcher({ minRefetchIntervalMs: 0, failureBackoffMs: 1000, maxFailureBackoffMs: 4000 });
    const attempt = () => fetcher.getVerifyKey(server.name, key.keyId, time);
    const start = time;
    const attemptsAt = async (offsets: number[]) => {
      const counts: number[] = [];
      for (const offset of offsets) {
        time = start + offset;
        const result = await attempt();
        expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('GET /_matrix/key/v2/server answered HTTP 500') });
        counts.push(server.requests.length);
      }
      return counts;
    };
    // Attempts at 0, 1000 (+1 s), 3000 (+2 s), 7000 (+4 s), 11000 (+4 s, the maximum); every other call is answered
    // from the last failure without a request.
    expect(await attemptsAt([0, 999, 1000, 2999, 3000, 6999, 7000, 10_999, 11_000])).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5]);

    server.answer = servingKeys(() => keyResponse(server.name, [key]));
    time = start + 15_000;
    await expect(attempt()).resolves.toEqual({ ok: true, publicKey: key.publicKey });
    expect(server.requests).toHaveLength(6);

    // A new failure starts again at 1 s.
    server.answer = () => ({ status: 500, body: {} });
    time = start + 15_000;
    await fetcher.getVerifyKey(server.name, 'ed25519:other', time);
    expect(server.requests).toHaveLength(7);
    time = start + 16_000;
    await fetcher.getVerifyKey(server.name, 'ed25519:other', time);
    expect(server.requests).toHaveLength(8);
  });

  it('makes one request for concurrent verifications of different keys of one server, and of a failing server', async () => {
    const keys = Array.from({ length: 6 }, () => newKey());
    const server = await startServer();
    server.answer = (request) => ({ ...servingKeys(() => keyResponse(server.name, keys))(request), delayMs: 100 });
    const fetcher = makeFetcher();
    const results = await Promise.all(keys.map((key) => fetcher.getVerifyKey(server.name, key.keyId, time)));
    expect(results).toEqual(keys.map((key) => ({ ok: true, publicKey: key.publicKey })));
    expect(server.requests).toHaveLength(1);

    const failing = await startServer(() => ({ status: 503, body: {}, delayMs: 100 }));
    const failures = await Promise.all(keys.map((key) => fetcher.getVerifyKey(failing.name, key.keyId, time)));
    expect(failures.map((result) => result.ok)).toEqual(keys.map(() => false));
    expect(failing.requests).toHaveLength(1);
  });
});

describe('every fetch ends (issue 19, item 1)', () => {
  it('fails a fetch whose server sends its headers and part of the body, then closes, and fetches again later', async () => {
    const key = newKey();
    const server = await startServer(() => ({ status: 200, body: undefined, cut: '{"server_name":' }));
    const fetcher = makeFetcher({ failureBackoffMs: 1000 });
    await expect(fetcher.getVerifyKey(server.name, key.keyId, time)).resolves.toEqual({
      ok: false,
      problem: 'keys-unavailable',
      message: "The origin server's signing keys could not be fetched.",
      reason: `unknown key ${key.keyId} of ${server.name}; fetching from ${server.name} failed: the connection to https://localhost:${server.port}/_matrix/key/v2/server closed before the response ended`,
    });
    // The in-flight entry cleared: after the back-off the next lookup makes a new request, and it answers.
    server.answer = servingKeys(() => keyResponse(server.name, [key]));
    time += 1000;
    await expect(fetcher.getVerifyKey(server.name, key.keyId, time)).resolves.toEqual({ ok: true, publicKey: key.publicKey });
    expect(server.requests).toHaveLength(2);
  });

  it('keeps discovery within the same budget: a server name that takes longer to resolve fails at the deadline', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key]));
    const fetchJson = createHttpsFetchJson({ verifyTls: true, allowPrivateAddresses: true, extraCaCertificates: [CERTIFICATE] });
    // Discovery that answers only after 3 s (a slow .well-known or SRV look-up), for a budget of 300 ms.
    const slowDiscovery = {
      resolve: async (name: string) => {
        await new Promise((resolve) => setTimeout(resolve, 3000));
        return { host: '127.0.0.1', port: server.port, hostHeader: name, tlsServerName: 'localhost' };
      },
    };
    const fetcher = new KeyFetcher({ fetchJson, discovery: slowDiscovery, store, now }, { timeoutMs: 300, minRefetchIntervalMs: 0 });
    await expect(fetcher.getVerifyKey(server.name, key.keyId, time)).resolves.toEqual({
      ok: false,
      problem: 'keys-unavailable',
      message: "The origin server's signing keys could not be fetched.",
      reason: `unknown key ${key.keyId} of ${server.name}; fetching from ${server.name} failed: asking ${server.name} took more than 350 ms`,
    });
    expect(server.requests).toHaveLength(0);
  });

  it('lets at most maxWaiting lookups wait on fetches; the next is answered busy at once', async () => {
    const hanging = await startServer(() => ({ status: 200, body: {}, delayMs: Infinity }));
    const other = await startServer(() => ({ status: 200, body: {}, delayMs: Infinity }));
    const fetcher = makeFetcher({ maxWaiting: 3, timeoutMs: 1500 });
    const settled: boolean[] = [];
    const waiting = [hanging.name, hanging.name, other.name].map((name, i) =>
      fetcher.getVerifyKey(name, 'ed25519:a', time).then((result) => {
        settled[i] = true;
        return result;
      }),
    );
    await until(() => hanging.requests.length === 1 && other.requests.length === 1);
    for (const name of [hanging.name, other.name]) {
      await expect(fetcher.getVerifyKey(name, 'ed25519:a', time)).resolves.toEqual({
        ok: false,
        problem: 'busy',
        unavailable: true,
        message: 'Too many requests are waiting for signing keys; retry shortly.',
        reason: `3 lookups already wait on key fetches; not waiting for ${name}'s`,
      });
    }
    expect(settled).toEqual([]);
    expect(hanging.requests).toHaveLength(1);
    // The three end with their fetches (at the budget), and the slots are free again.
    const results = await Promise.all(waiting);
    expect(results.map((result) => !result.ok && result.problem)).toEqual(['keys-unavailable', 'keys-unavailable', 'keys-unavailable']);
    const key = newKey();
    const answering = await startServer();
    answering.answer = servingKeys(() => keyResponse(answering.name, [key]));
    await expect(fetcher.getVerifyKey(answering.name, key.keyId, time)).resolves.toEqual({ ok: true, publicKey: key.publicKey });
  });
});

describe('keys held per key ID (issue 19, item 11)', () => {
  it('keeps fresher keys when a notary relays a stale response, and does not use the stale one for requests', async () => {
    const key = newKey();
    const retired = newKey();
    const notaryKey = newKey();
    const target = await startServer();
    target.answer = servingKeys(() => keyResponse(target.name, [key]));
    // The notary's copy is from last week: the server's previous key, valid until 6 days ago.
    const notary = await startServer((request) =>
      request.method === 'POST' && request.url === '/_matrix/key/v2/query'
        ? { status: 200, body: { server_keys: [signJson(keyResponse(target.name, [retired], { validUntilTs: time - 6 * DAY }), notary.name, notaryKey)] } }
        : { status: 404, body: {} },
    );
    const trustedKeyServers = [{ serverName: notary.name, verifyKeys: { [notaryKey.keyId]: notaryKey.publicKey } }];
    const fetcher = makeFetcher({ trustedKeyServers });
    await expect(fetcher.getVerifyKey(target.name, key.keyId, time)).resolves.toEqual({ ok: true, publicKey: key.publicKey });

    // A request naming another key: the server is down now, and only the notary answers.
    target.answer = () => ({ status: 502, body: {} });
    await expect(fetcher.getVerifyKey(target.name, 'ed25519:other', time)).resolves.toMatchObject({ ok: false, problem: 'unknown-key' });
    expect(notary.requests).toHaveLength(1);
    await expect(fetcher.getVerifyKey(target.name, key.keyId, time, { allowOldKeys: false })).resolves.toEqual({
      ok: true,
      publicKey: key.publicKey,
    });
    // The relayed key is known, but only for signatures made before it expired, never for one made now.
    await expect(fetcher.getVerifyKey(target.name, retired.keyId, time - 7 * DAY)).resolves.toEqual({ ok: true, publicKey: retired.publicKey });
    await expect(fetcher.getVerifyKey(target.name, retired.keyId, time)).resolves.toMatchObject({
      ok: false,
      reason: expect.stringContaining(`key ${retired.keyId} of ${target.name} is valid only until ${time - 6 * DAY}`),
    });

    // After a restart, from the store: the same.
    const requestsBefore = target.requests.length;
    const restarted = makeFetcher({ trustedKeyServers });
    await expect(restarted.getVerifyKey(target.name, key.keyId, time, { allowOldKeys: false })).resolves.toEqual({
      ok: true,
      publicKey: key.publicKey,
    });
    await expect(restarted.getVerifyKey(target.name, retired.keyId, time - 7 * DAY)).resolves.toEqual({ ok: true, publicKey: retired.publicKey });
    expect(target.requests).toHaveLength(requestsBefore);
  });

  it('keeps, for each key ID, the version valid the longest, and a rotated-out key for the events it signed', async () => {
    const first = newKey();
    const second = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [first], { validUntilTs: time + 3 * DAY }));
    const fetcher = makeFetcher();
    await expect(fetcher.getVerifyKey(server.name, first.keyId, time)).resolves.toMatchObject({ ok: true });

    // The server rotates: `first` leaves verify_keys (listed as old, expired an hour ago), `second` signs now.
    server.answer = servingKeys(() =>
      keyResponse(server.name, [second], { validUntilTs: time + DAY, old: { [first.keyId]: { key: first.publicKey, expired_ts: time - 60 * 60_000 } } }),
    );
    await expect(fetcher.getVerifyKey(server.name, second.keyId, time)).resolves.toEqual({ ok: true, publicKey: second.publicKey });
    // `first` was published valid for 3 days: that version stays (Synapse's keyring keeps the highest valid_until_ts).
    await expect(fetcher.getVerifyKey(server.name, first.keyId, time + 2 * DAY)).resolves.toEqual({ ok: true, publicKey: first.publicKey });
    expect(server.requests).toHaveLength(2);
  });
});

describe('a key ID we do not hold (issue 19, item 13)', () => {
  // These use the default throttle (minRefetchIntervalMs unset), not the tests' 0.
  const defaults = { minRefetchIntervalMs: undefined };

  it('is fetched at once, ten seconds after the last fetch of that server', async () => {
    const key = newKey();
    const rotated = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key]));
    const fetcher = makeFetcher(defaults);
    await expect(fetcher.getVerifyKey(server.name, key.keyId, time)).resolves.toMatchObject({ ok: true });

    server.answer = servingKeys(() => keyResponse(server.name, [rotated]));
    time += 10_000;
    await expect(fetcher.getVerifyKey(server.name, rotated.keyId, time)).resolves.toEqual({ ok: true, publicKey: rotated.publicKey });
    expect(server.requests).toHaveLength(2);
  });

  it('after a fetch that lacked it, is fetched again after the per-server floor of seconds, not a minute', async () => {
    const key = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key]));
    const fetcher = makeFetcher(defaults);
    const unknown = { ok: false, problem: 'unknown-key', message: 'The origin server has no key of that ID that may sign this request.', reason: `unknown key ed25519:later of ${server.name}` };
    await expect(fetcher.getVerifyKey(server.name, 'ed25519:later', time)).resolves.toEqual(unknown);
    expect(server.requests).toHaveLength(1);
    // Within the floor: answered without a request, however many ask.
    time += 4_999;
    await expect(fetcher.getVerifyKey(server.name, 'ed25519:later', time)).resolves.toEqual(unknown);
    await expect(fetcher.getVerifyKey(server.name, 'ed25519:madeup', time)).resolves.toMatchObject({ ok: false, problem: 'unknown-key' });
    expect(server.requests).toHaveLength(1);

    const later = generateSigningKey('later');
    server.answer = servingKeys(() => keyResponse(server.name, [key, later]));
    time += 1;
    await expect(fetcher.getVerifyKey(server.name, 'ed25519:later', time)).resolves.toEqual({ ok: true, publicKey: later.publicKey });
    expect(server.requests).toHaveLength(2);
  });

  it('is fetched at once after a restart, whenever the stored keys were fetched', async () => {
    const key = newKey();
    const rotated = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key], { validUntilTs: time + 30 * DAY }));
    await expect(makeFetcher(defaults).getVerifyKey(server.name, key.keyId, time)).resolves.toMatchObject({ ok: true });

    server.answer = servingKeys(() => keyResponse(server.name, [rotated]));
    time += 1000;
    const restarted = makeFetcher(defaults);
    await expect(restarted.getVerifyKey(server.name, key.keyId, time)).resolves.toEqual({ ok: true, publicKey: key.publicKey });
    expect(server.requests).toHaveLength(1);
    await expect(restarted.getVerifyKey(server.name, rotated.keyId, time)).resolves.toEqual({ ok: true, publicKey: rotated.publicKey });
    expect(server.requests).toHaveLength(2);
  });

  it('is fetched once for concurrent requests naming it', async () => {
    const key = newKey();
    const rotated = newKey();
    const server = await startServer();
    server.answer = servingKeys(() => keyResponse(server.name, [key]));
    const fetcher = makeFetcher(defaults);
    await expect(fetcher.getVerifyKey(server.name, key.keyId, time)).resolves.toMatchObject({ ok: true });
    server.answer = (request) => ({ ...servingKeys(() => keyResponse(server.name, [rotated]))(request), delayMs: 100 });
    time += 10_000;
    const results = await Promise.all(Array.from({ length: 5 }, () => fetcher.getVerifyKey(server.name, rotated.keyId, time)));
    expect(results).toEqual(Array.from({ length: 5 }, () => ({ ok: true, publicKey: rotated.publicKey })));
    expect(server.requests).toHaveLength(2);
  });
});

/** Resolves once `condition` holds, checking every 10 ms for up to 30 s. */
async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 30_000) throw new Error('the condition did not hold within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
