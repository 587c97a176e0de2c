/**
 * The service as main.ts wires it (event and room stores, the Neo4j key store, the HTTPS key fetcher with server
 * discovery, the X-Matrix middleware, createApp), with test settings: a fresh signing key, a silent logger, port 0
 * on loopback, and a key fetcher that accepts any certificate and may reach loopback, so a test's own HTTPS key
 * server can stand in for a remote server. And signed requests to it, as another homeserver would send them.
 */
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestHandler } from 'express';
import { generateSigningKey, type SigningKey } from '../../src/core/signing';
import type { MissingEventsLimits } from '../../src/core/missing-events-request';
import { signRequest } from '../../src/core/x-matrix';
import { createHttpsFetchJson, resolveSrv } from '../../src/federation/https-client';
import { KeyFetcher, type KeyFetcherOptions } from '../../src/federation/key-fetcher';
import { ServerDiscovery } from '../../src/federation/server-discovery';
import { createApp } from '../../src/http/app';
import { listen } from '../../src/http/client-error';
import { roomGraphReadiness, type ReadinessCheck } from '../../src/http/health';
import { createMetrics, type Metrics } from '../../src/http/metrics';
import { createOpsApp } from '../../src/http/ops-app';
import type { PassThrough } from '../../src/http/pass-through';
import { xMatrixAuth } from '../../src/http/x-matrix-auth';
import { createLogger, type Logger } from '../../src/logger';
import { EventStore } from '../../src/store/event-store';
import { assertReady, type Graph } from '../../src/store/neo4j';
import { Neo4jServerKeyStore } from '../../src/store/server-key-store';

/** The configuration defaults (src/config.ts): MISSING_EVENTS_MAX_LIMIT, MAX_LATEST_EVENTS, MAX_EARLIEST_EVENTS. */
export const DEFAULT_LIMITS: MissingEventsLimits = { maxLimit: 20, maxLatestEvents: 256, maxEarliestEvents: 4096 };
const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

export interface TestServiceOptions {
  readonly graph: Graph;
  /** Our server name, which requests' `destination` must equal; `us.test` unless given. */
  readonly serverName?: string;
  readonly limits?: MissingEventsLimits;
  readonly bodyLimitBytes?: number;
  readonly keyFetcherOptions?: KeyFetcherOptions;
  /** The service's logger; a silent one unless given. */
  readonly logger?: Logger;
  /** Middleware run after authentication (the rate limits); none unless given. */
  readonly rateLimit?: readonly RequestHandler[];
  /** Where the walk reads rooms; `graph` unless given (a Neo4j that is down, to test outages). */
  readonly eventsGraph?: Graph;
  /** What /ready (on the ops listener) checks; the room graph's readiness (assertReady(eventsGraph)) unless given. */
  readonly readiness?: readonly ReadinessCheck[];
  /** How long /ready waits for its checks; the ops app's default unless given. */
  readonly readyTimeoutMs?: number;
  /** The pass-through to a homeserver (UPSTREAM_FEDERATION_URL); none unless given. */
  readonly passThrough?: PassThrough;
  /** The request deadline (REQUEST_DEADLINE_MS); none unless given. */
  readonly requestDeadlineMs?: number;
  /** The metrics, shared with the key fetcher as main.ts does; the app's own unless given. */
  readonly metrics?: Metrics;
}

export interface TestService {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** The ops listener (/health, /ready, /metrics), as main.ts starts it beside the federation listener. */
  readonly opsUrl: string;
  readonly serverName: string;
  readonly signingKey: SigningKey;
  readonly keyStore: Neo4jServerKeyStore;
  readonly keyFetcher: KeyFetcher;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startTestService(options: TestServiceOptions): Promise<TestService> {
  const { graph } = options;
  const serverName = options.serverName ?? 'us.test';
  const now = Date.now;
  const logger = options.logger ?? createLogger('error', true);
  const signingKey = generateSigningKey(`t${Math.random().toString(36).slice(2, 10)}`);
  const keyStore = new Neo4jServerKeyStore(graph);
  const fetchJson = createHttpsFetchJson({ verifyTls: false, allowPrivateAddresses: true });
  const keyFetcher = new KeyFetcher(
    { fetchJson, discovery: new ServerDiscovery({ fetchJson, resolveSrv, now }), store: keyStore, now, logger, metrics: options.metrics?.keys },
    { trustedKeyServers: [], timeoutMs: 5_000, ...options.keyFetcherOptions },
  );
  const metrics = options.metrics ?? createMetrics();
  const app = createApp({
    missingEvents: { events: new EventStore(options.eventsGraph ?? graph), limits: options.limits ?? DEFAULT_LIMITS },
    passThrough: options.passThrough,
    server: { serverName, signingKey },
    authenticate: xMatrixAuth({ serverName, keyFetcher, now, logger }),
    rateLimit: options.rateLimit,
    logger,
    bodyLimitBytes: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    requestDeadlineMs: options.requestDeadlineMs,
    metrics,
  });
  const server = await listen(app, 0, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  const readiness = options.readiness ?? [roomGraphReadiness(() => assertReady(options.eventsGraph ?? graph), logger)];
  const ops = await listen(createOpsApp({ metrics, readiness, logger, readyTimeoutMs: options.readyTimeoutMs }), 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    opsUrl: `http://127.0.0.1:${(ops.address() as AddressInfo).port}`,
    serverName,
    signingKey,
    keyStore,
    keyFetcher,
    server,
    close: async () => {
      server.closeAllConnections();
      ops.closeAllConnections();
      await Promise.all([server, ops].map((listener) => new Promise<void>((resolve) => listener.close(() => resolve()))));
    },
  };
}

export interface Reply {
  readonly status: number;
  /** The parsed body, or undefined when it is not JSON. */
  readonly json: unknown;
  /** The body exactly as received. */
  readonly text: string;
  /** The Retry-After header (signedPost only). */
  readonly retryAfter?: string;
}

export interface SignedPostOptions {
  /** The service's base URL. */
  readonly url: string;
  /** The path and query as sent, e.g. `/_matrix/federation/v1/get_missing_events/%21room%3Ahs1.test`. */
  readonly path: string;
  readonly origin: string;
  readonly key: SigningKey;
  readonly destination: string;
  /** Sent as JSON and signed as the request's content. */
  readonly body?: unknown;
  /** Sent as it is; signed as content when it parses as JSON, else signed without content. */
  readonly rawBody?: string;
  /** Extra headers; `authorization` here replaces the signed header. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A POST signed with X-Matrix as `origin` (spec: server-server API, "Request Authentication"). */
export async function signedPost(options: SignedPostOptions): Promise<Reply> {
  const text = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const content = options.rawBody === undefined ? options.body : parseOrUndefined(options.rawBody);
  const authorization = signRequest({
    method: 'POST',
    uri: options.path,
    origin: options.origin,
    destination: options.destination,
    content,
    key: options.key,
  });
  const response = await fetch(`${options.url}${options.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization, ...options.headers },
    body: text,
  });
  return { ...reply(response.status, await response.text()), retryAfter: response.headers.get('retry-after') ?? undefined };
}

export interface RawRequestOptions {
  readonly url: string;
  readonly method: string;
  readonly path: string;
  /** A header given as a list is sent as that many header lines (fetch would join them into one). */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: string;
}

/** A request through node:http, which can send several Authorization headers, as the spec's example code may. */
export function rawRequest(options: RawRequestOptions): Promise<Reply> {
  const target = new URL(options.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: Number(target.port), method: options.method, path: options.path, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(reply(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
        res.on('error', reject);
      },
    );
    for (const [name, value] of Object.entries(options.headers ?? {})) req.setHeader(name, typeof value === 'string' ? value : [...value]);
    req.on('error', reject);
    req.end(options.body);
  });
}

/** `/_matrix/federation/v1/get_missing_events/{roomId}`, the room ID percent-encoded as senders encode it. */
export function missingEventsPath(roomId: string): string {
  return `/_matrix/federation/v1/get_missing_events/${encodeURIComponent(roomId)}`;
}

function reply(status: number, text: string): Reply {
  return { status, json: parseOrUndefined(text), text };
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
