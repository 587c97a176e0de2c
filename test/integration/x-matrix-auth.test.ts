/**
 * The X-Matrix middleware on a real Express listener, with the real body parser and error middleware, and the real
 * key fetcher reading the origin's keys from a loopback HTTPS server (test/fixtures/tls). Requests go out through
 * node:http so a test can send several Authorization headers, as the spec's example code may.
 */
import express from 'express';
import { readFileSync } from 'node:fs';
import { request as httpRequest, Server as HttpServer } from 'node:http';
import { createServer, Server as HttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Driver } from 'neo4j-driver';
import { generateSigningKey, SigningKey, signJson } from '../../src/core/signing';
import { authorizationHeader, MAX_X_MATRIX_HEADERS, signRequest } from '../../src/core/x-matrix';
import { createHttpsFetchJson } from '../../src/federation/https-client';
import { KeyFetcher } from '../../src/federation/key-fetcher';
import { ServerDiscovery } from '../../src/federation/server-discovery';
import { errorHandler } from '../../src/http/errors';
import { jsonBody } from '../../src/http/json-body';
import { authenticatedOrigin, xMatrixAuth } from '../../src/http/x-matrix-auth';
import { createLogger } from '../../src/logger';
import { Neo4jServerKeyStore } from '../../src/store/server-key-store';
import { openTestDriver, testNeo4j } from '../helpers/neo4j';

const TLS_DIR = join(__dirname, '..', 'fixtures', 'tls');
const CERTIFICATE = readFileSync(join(TLS_DIR, 'localhost.crt'), 'utf8');
const PRIVATE_KEY = readFileSync(join(TLS_DIR, 'localhost.key'), 'utf8');
const US = 'us.example';
const PATH = '/_matrix/federation/v1/get_missing_events/!room:us.example';

let driver: Driver;
let keyServer: HttpsServer;
let app: HttpServer;
let appPort: number;
let origin: string;
let originKey: SigningKey;
let keyRequests = 0;

beforeAll(async () => {
  driver = await openTestDriver();
  originKey = generateSigningKey(`t${Math.random().toString(36).slice(2, 10)}`);

  keyServer = createServer({ key: PRIVATE_KEY, cert: CERTIFICATE }, (req, res) => {
    keyRequests++;
    const body = signJson(
      {
        server_name: origin,
        valid_until_ts: Date.now() + 86_400_000,
        verify_keys: { [originKey.keyId]: { key: originKey.publicKey } },
      },
      origin,
      originKey,
    );
    res.writeHead(req.url === '/_matrix/key/v2/server' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
  origin = `localhost:${(keyServer.address() as AddressInfo).port}`;

  const fetchJson = createHttpsFetchJson({
    verifyTls: true,
    allowPrivateAddresses: true,
    extraCaCertificates: [CERTIFICATE],
  });
  const keyFetcher = new KeyFetcher({
    fetchJson,
    discovery: new ServerDiscovery({ fetchJson, resolveSrv: async () => [], now: Date.now }),
    store: new Neo4jServerKeyStore({ driver, database: testNeo4j().database }),
    now: Date.now,
  });
  const authenticate = xMatrixAuth({ serverName: US, keyFetcher, now: Date.now });
  const answerOrigin: express.RequestHandler = (_req, res) => {
    res.json({ origin: authenticatedOrigin(res) });
  };
  const server = express();
  server.post('/_matrix/federation/v1/get_missing_events/:roomId', jsonBody(65536), authenticate, answerOrigin);
  server.get('/_matrix/federation/v1/version', authenticate, answerOrigin);
  server.use(errorHandler(createLogger('error', true)));
  app = server.listen(0, '127.0.0.1');
  await new Promise((resolve) => app.once('listening', resolve));
  appPort = (app.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const server of [app, keyServer]) {
    if (server === undefined) continue;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await driver?.close();
});

/** Another origin: a loopback HTTPS server answering its key request, counting the requests it gets. */
async function startKeyServer(key: SigningKey): Promise<{ server: HttpsServer; origin: string; key: SigningKey; requests: () => number }> {
  let requests = 0;
  let name = '';
  const server = createServer({ key: PRIVATE_KEY, cert: CERTIFICATE }, (_req, res) => {
    requests++;
    const body = signJson(
      { server_name: name, valid_until_ts: Date.now() + 86_400_000, verify_keys: { [key.keyId]: { key: key.publicKey } } },
      name,
      key,
    );
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  name = `localhost:${(server.address() as AddressInfo).port}`;
  return { server, origin: name, key, requests: () => requests };
}

async function closeServer(server: HttpsServer): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

interface Reply {
  readonly status: number;
  readonly body: { origin?: string; errcode?: string; error?: string };
}

function send(method: string, uri: string, authorization: string[] | undefined, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = {};
    if (authorization !== undefined) headers.authorization = authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = httpRequest({ host: '127.0.0.1', port: appPort, method, path: uri, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const content = { latest_events: ['$a'], earliest_events: [], limit: 5 };

function signed(
  overrides: { uri?: string; method?: string; destination?: string; content?: unknown; key?: SigningKey } = {},
): string {
  return signRequest({
    method: overrides.method ?? 'POST',
    uri: overrides.uri ?? PATH,
    origin,
    destination: overrides.destination ?? US,
    content: 'content' in overrides ? overrides.content : content,
    key: overrides.key ?? originKey,
  });
}

function unauthorized(error: string | RegExp) {
  return {
    status: 401,
    body: { errcode: 'M_UNAUTHORIZED', error: typeof error === 'string' ? error : expect.stringMatching(error) },
  };
}

describe('xMatrixAuth', () => {
  it('accepts a signed request and hands the handler its origin', async () => {
    await expect(send('POST', PATH, [signed()], JSON.stringify(content))).resolves.toEqual({
      status: 200,
      body: { origin },
    });
  });

  it('accepts a request without a body, signed without content', async () => {
    const uri = '/_matrix/federation/v1/version';
    await expect(send('GET', uri, [signed({ method: 'GET', uri, content: undefined })])).resolves.toEqual({
      status: 200,
      body: { origin },
    });
  });

  it('covers the URI exactly as sent, query string included', async () => {
    const uri = `${PATH}?b=2&a=%21x`;
    await expect(send('POST', uri, [signed({ uri })], JSON.stringify(content))).resolves.toEqual({
      status: 200,
      body: { origin },
    });
    await expect(send('POST', uri, [signed({ uri: `${PATH}?a=%21x&b=2` })], JSON.stringify(content))).resolves.toEqual(
      unauthorized(`The X-Matrix signature by ${originKey.keyId} of ${origin} does not verify.`),
    );
  });

  it('accepts a header without destination from servers older than v1.3, which signed our name', async () => {
    const header = signed();
    const withoutDestination = header.replace(`,destination="${US}"`, '');
    expect(withoutDestination).not.toContain('destination');
    await expect(send('POST', PATH, [withoutDestination], JSON.stringify(content))).resolves.toEqual({
      status: 200,
      body: { origin },
    });
  });

  it('rejects a request with no X-Matrix header', async () => {
    await expect(send('POST', PATH, undefined, JSON.stringify(content))).resolves.toEqual(
      unauthorized('The request has no "Authorization: X-Matrix ..." header.'),
    );
    await expect(send('POST', PATH, ['Bearer abc'], JSON.stringify(content))).resolves.toEqual(
      unauthorized('The request has no "Authorization: X-Matrix ..." header.'),
    );
  });

  it('rejects a malformed header, saying what is wrong', async () => {
    await expect(
      send('POST', PATH, [`X-Matrix origin="${origin}",sig="abc"`], JSON.stringify(content)),
    ).resolves.toEqual(unauthorized('The X-Matrix header is malformed: "key" is missing.'));
  });

  it.each(['evil.invalid.', 'a..invalid', '1.2.3.4.'])(
    'rejects the origin %s, outside the server-name grammar (a trailing dot, an empty label), fetching no key',
    async (name) => {
      const header = authorizationHeader({ origin: name, destination: US, key: 'ed25519:a', signature: 'A'.repeat(86) });
      await expect(send('POST', PATH, [header], JSON.stringify(content))).resolves.toEqual(
        unauthorized(
          `The X-Matrix header is malformed: "origin" is not a server name: "${name}" is not a DNS name: labels are joined by single dots, with none at either end.`,
        ),
      );
    },
  );

  it('rejects a request for another destination', async () => {
    await expect(
      send('POST', PATH, [signed({ destination: 'them.example' })], JSON.stringify(content)),
    ).resolves.toEqual(unauthorized(`The X-Matrix destination them.example is not this server (${US}).`));
  });

  it('rejects a key the origin does not have', async () => {
    const stranger = generateSigningKey('stranger');
    await expect(send('POST', PATH, [signed({ key: stranger })], JSON.stringify(content))).resolves.toEqual(
      unauthorized(
        'The origin server has no key of that ID that may sign this request.',
      ),
    );
  });

  it('rejects a signature over another body', async () => {
    await expect(send('POST', PATH, [signed()], JSON.stringify({ ...content, limit: 6 }))).resolves.toEqual(
      unauthorized(`The X-Matrix signature by ${originKey.keyId} of ${origin} does not verify.`),
    );
  });

  it('accepts the request when any one of several Authorization headers verifies', async () => {
    const bad = signed({ key: generateSigningKey('other') });
    await expect(send('POST', PATH, ['Bearer x', bad, signed()], JSON.stringify(content))).resolves.toEqual({
      status: 200,
      body: { origin },
    });
  });

  it('lists every failure when none verifies', async () => {
    const unknown = signed({ key: generateSigningKey('unknown') });
    const wrongBody = signed({ content: { ...content, limit: 6 } });
    await expect(send('POST', PATH, [unknown, wrongBody], JSON.stringify(content))).resolves.toEqual(
      unauthorized(
        `The origin server has no key of that ID that may sign this request. The X-Matrix signature by ${originKey.keyId} of ${origin} does not verify.`,
      ),
    );
  });

  it('refuses a request with one malformed header beside a good one', async () => {
    await expect(send('POST', PATH, [signed(), 'X-Matrix nonsense'], JSON.stringify(content))).resolves.toEqual(
      unauthorized('The X-Matrix header is malformed: parameter "nonsense" has no "=value".'),
    );
  });

  it('refuses a request when one header names another destination, even beside a good one (as Synapse)', async () => {
    for (const headers of [
      [signed(), signed({ destination: 'them.example' })],
      [signed({ destination: 'them.example' }), signed()],
    ]) {
      await expect(send('POST', PATH, headers, JSON.stringify(content))).resolves.toEqual(
        unauthorized(`The X-Matrix destination them.example is not this server (${US}).`),
      );
    }
  });

  it('refuses headers naming different origins, before fetching any key', async () => {
    const other = await startKeyServer(generateSigningKey('other'));
    try {
      const theirs = signRequest({ method: 'POST', uri: PATH, origin: other.origin, destination: US, content, key: other.key });
      await expect(send('POST', PATH, [theirs, signed()], JSON.stringify(content))).resolves.toEqual(
        unauthorized(`The X-Matrix headers name 2 origins (${other.origin}, ${origin}); a request has one.`),
      );
      expect(other.requests()).toBe(0);
    } finally {
      await closeServer(other.server);
    }
  });

  it(`refuses more than ${MAX_X_MATRIX_HEADERS} X-Matrix headers, before fetching any key`, async () => {
    const many = await startKeyServer(generateSigningKey('many'));
    try {
      const header = signRequest({ method: 'POST', uri: PATH, origin: many.origin, destination: US, content, key: many.key });
      const headers = Array.from({ length: MAX_X_MATRIX_HEADERS + 1 }, () => header);
      await expect(send('POST', PATH, headers, JSON.stringify(content))).resolves.toEqual(
        unauthorized(`The request has ${MAX_X_MATRIX_HEADERS + 1} X-Matrix headers; at most ${MAX_X_MATRIX_HEADERS} are accepted.`),
      );
      expect(many.requests()).toBe(0);
      // As many as are allowed are fine: the first verifies.
      await expect(send('POST', PATH, headers.slice(1), JSON.stringify(content))).resolves.toEqual({
        status: 200,
        body: { origin: many.origin },
      });
      expect(many.requests()).toBe(1);
    } finally {
      await closeServer(many.server);
    }
  });

  it('answers M_BAD_JSON for a body that has no canonical JSON form', async () => {
    await expect(send('POST', PATH, [signed()], '{"limit": 1.5}')).resolves.toEqual({
      status: 400,
      body: {
        errcode: 'M_BAD_JSON',
        error:
          'The request body is not canonical JSON: content.limit is not an integer in the canonical JSON range: 1.5.',
      },
    });
  });

  it('fetched the origin keys once for all of these requests', () => {
    expect(keyRequests).toBe(1);
  });
});
