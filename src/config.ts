/**
 * Every setting, in one joi schema, read from the environment once (in main.ts and the CLIs) and passed on as a
 * frozen value. A bad variable stops start-up with a message naming it. The README's configuration table lists
 * each with its default.
 */
import { availableParallelism } from 'node:os';
import Joi from 'joi';

export interface TrustedKeyServer {
  readonly serverName: string;
  readonly verifyKeys: Readonly<Record<string, string>>;
}

export interface Config {
  readonly serverName: string;
  readonly host: string;
  readonly port: number;
  /** The ops listener (GET /health, /ready, /metrics): src/http/ops-app.ts. */
  readonly opsHost: string;
  readonly opsPort: number;
  readonly signingKeyPath: string;
  readonly neo4j: {
    readonly uri?: string;
    readonly user?: string;
    readonly password?: string;
    readonly database?: string;
    readonly maxConnections?: number;
    readonly queryTimeoutMs?: number;
  };
  readonly bodyLimitBytes: number;
  readonly requestDeadlineMs: number;
  readonly missingEventsMaxLimit: number;
  readonly maxLatestEvents: number;
  readonly maxEarliestEvents: number;
  readonly federationVerifyTls: boolean;
  readonly federationAllowPrivateAddresses: boolean;
  readonly keyFetchTimeoutMs: number;
  readonly keyFetchMaxWaiting: number;
  readonly trustedKeyServers: readonly TrustedKeyServer[];
  readonly logLevel: string;
  /** JSON lines or one readable line a record; undefined: pretty when stderr is a terminal (src/logger.ts). */
  readonly logFormat?: 'json' | 'pretty';
  readonly demoRoomEvents: number;
  /** serve --follow: the Synapse database (postgres:// URL) to follow, and the rooms (all when empty); src/follow/. */
  readonly followSynapse?: { readonly database: string; readonly rooms: readonly string[] };
  /** The homeserver that requests naming latest events we do not hold are passed to (src/http/pass-through.ts). */
  readonly upstreamFederation?: {
    readonly url: string;
    readonly verifyTls: boolean;
    readonly timeoutMs: number;
  };
  /** Per-origin rate limits (Synapse's rc_federation), see src/http/rate-limit.ts. */
  readonly rcFederation: {
    readonly windowMs: number;
    readonly sleepLimit: number;
    readonly sleepDelayMs: number;
    readonly rejectLimit: number;
    readonly concurrent: number;
  };
}

const schema = Joi.object({
  SERVER_NAME: Joi.string().pattern(/^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/).default('localhost:8008'),
  HOST: Joi.string().default('127.0.0.1'),
  PORT: Joi.number().integer().min(0).max(65535).default(8008),
  // /ready and /metrics say how the service is doing: loopback unless the operator opens them.
  OPS_HOST: Joi.string().default('127.0.0.1'),
  OPS_PORT: Joi.number().integer().min(0).max(65535).default(9898),
  SIGNING_KEY_PATH: Joi.string().default('.data/signing.key'),
  NEO4J_URI: Joi.string().uri({ scheme: ['bolt', 'bolt+s', 'bolt+ssc', 'neo4j', 'neo4j+s', 'neo4j+ssc'] }).empty(''),
  NEO4J_USER: Joi.string().empty(''),
  NEO4J_PASSWORD: Joi.string().empty('').allow(''),
  NEO4J_DATABASE: Joi.string().empty(''),
  // Neo4j gains nothing from more concurrent queries than it has cores to run them: measured on 2 cores, 64
  // callers through 4 connections answer faster than through 100 (npm run bench -- endpoint).
  NEO4J_MAX_CONNECTIONS: Joi.number().integer().min(1).default(() => 2 * availableParallelism()),
  // A walk takes milliseconds; one that runs this long is stopped and answered 503 M_UNAVAILABLE.
  NEO4J_QUERY_TIMEOUT_MS: Joi.number().integer().min(100).default(5_000),
  // Every request is answered within this, 503 M_UNAVAILABLE at worst; above the query timeout, so a slow walk is
  // ended by Neo4j first, and this bounds what the query timeout cannot (Neo4j starting up, a queue, a key fetch).
  REQUEST_DEADLINE_MS: Joi.number().integer().min(100).default(10_000),
  BODY_LIMIT_BYTES: Joi.number().integer().min(1024).default(1024 * 1024),
  MISSING_EVENTS_MAX_LIMIT: Joi.number().integer().min(1).max(1000).default(20),
  MAX_LATEST_EVENTS: Joi.number().integer().min(1).default(256),
  MAX_EARLIEST_EVENTS: Joi.number().integer().min(0).default(4096),
  FEDERATION_VERIFY_TLS: Joi.boolean().truthy('1').falsy('0').default(true),
  FEDERATION_ALLOW_PRIVATE_ADDRESSES: Joi.boolean().truthy('1').falsy('0').default(false),
  KEY_FETCH_TIMEOUT_MS: Joi.number().integer().min(100).default(10_000),
  // Requests waiting on key fetches, over all servers; each holds its body. Beyond it: 503 M_UNAVAILABLE at once.
  KEY_FETCH_MAX_WAITING: Joi.number().integer().min(1).default(32),
  TRUSTED_KEY_SERVERS: Joi.string().empty('').default(''),
  LOG_LEVEL: Joi.string().valid('error', 'warn', 'info', 'debug').default('info'),
  LOG_FORMAT: Joi.string().valid('json', 'pretty').empty(''),
  DEMO_ROOM_EVENTS: Joi.number().integer().min(0).default(2000),
  // serve --follow DATABASE sets the first; the rooms are comma-separated, every room when unset.
  FOLLOW_SYNAPSE_DATABASE: Joi.string().pattern(/^postgres(ql)?:\/\//i, 'postgres://...').empty(''),
  FOLLOW_SYNAPSE_ROOMS: Joi.string().empty(''),
  // The homeserver's federation listener, an origin only: the request's own URI is appended unchanged.
  UPSTREAM_FEDERATION_URL: Joi.string().uri({ scheme: ['http', 'https'] }).pattern(/^[a-z]+:\/\/[^/?#]+\/?$/i, 'scheme://host:port').empty(''),
  UPSTREAM_FEDERATION_VERIFY_TLS: Joi.boolean().truthy('1').falsy('0').default(true),
  // Below REQUEST_DEADLINE_MS, so a homeserver that does not answer gets its own 504 rather than the deadline's 503.
  UPSTREAM_FEDERATION_TIMEOUT_MS: Joi.number().integer().min(100).less(Joi.ref('REQUEST_DEADLINE_MS')).default(8_000),
  // Synapse's rc_federation defaults: a 1 s window, delay beyond 10, refuse beyond 50, 3 at once per origin.
  RC_FEDERATION_WINDOW_MS: Joi.number().integer().min(1).default(1000),
  RC_FEDERATION_SLEEP_LIMIT: Joi.number().integer().min(1).default(10),
  RC_FEDERATION_SLEEP_DELAY_MS: Joi.number().integer().min(0).default(500),
  RC_FEDERATION_REJECT_LIMIT: Joi.number().integer().min(1).default(50),
  RC_FEDERATION_CONCURRENT: Joi.number().integer().min(1).default(3),
}).unknown(true);

/** Every environment variable the service reads (the schema's keys), for checks such as the compose file's test. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.describe().keys as Record<string, unknown>);

/** Each variable's default as the schema gives it (undefined: unset unless configured), for `maxtryx serve --help`. */
export function configDefaults(): Record<string, unknown> {
  return schema.validate({}, { convert: true }).value as Record<string, unknown>;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined>): Config {
  const { value, error } = schema.validate(env, { abortEarly: true, convert: true });
  if (error) {
    const detail = error.details[0]!;
    throw new ConfigError(`${String(detail.path[0])} is invalid: ${detail.message.replace(/^"[^"]*" /, '')}`);
  }
  return Object.freeze({
    serverName: value.SERVER_NAME,
    host: value.HOST,
    port: value.PORT,
    opsHost: value.OPS_HOST,
    opsPort: value.OPS_PORT,
    signingKeyPath: value.SIGNING_KEY_PATH,
    neo4j: Object.freeze({
      uri: value.NEO4J_URI,
      user: value.NEO4J_USER,
      password: value.NEO4J_PASSWORD,
      database: value.NEO4J_DATABASE,
      maxConnections: value.NEO4J_MAX_CONNECTIONS,
      queryTimeoutMs: value.NEO4J_QUERY_TIMEOUT_MS,
    }),
    bodyLimitBytes: value.BODY_LIMIT_BYTES,
    requestDeadlineMs: value.REQUEST_DEADLINE_MS,
    missingEventsMaxLimit: value.MISSING_EVENTS_MAX_LIMIT,
    maxLatestEvents: value.MAX_LATEST_EVENTS,
    maxEarliestEvents: value.MAX_EARLIEST_EVENTS,
    federationVerifyTls: value.FEDERATION_VERIFY_TLS,
    federationAllowPrivateAddresses: value.FEDERATION_ALLOW_PRIVATE_ADDRESSES,
    keyFetchTimeoutMs: value.KEY_FETCH_TIMEOUT_MS,
    keyFetchMaxWaiting: value.KEY_FETCH_MAX_WAITING,
    trustedKeyServers: parseTrustedKeyServers(value.TRUSTED_KEY_SERVERS),
    logLevel: value.LOG_LEVEL,
    logFormat: value.LOG_FORMAT,
    demoRoomEvents: value.DEMO_ROOM_EVENTS,
    followSynapse: value.FOLLOW_SYNAPSE_DATABASE
      ? Object.freeze({
          database: value.FOLLOW_SYNAPSE_DATABASE as string,
          rooms: Object.freeze(((value.FOLLOW_SYNAPSE_ROOMS as string | undefined) ?? '').split(',').map((room) => room.trim()).filter((room) => room.length > 0)),
        })
      : undefined,
    upstreamFederation: value.UPSTREAM_FEDERATION_URL
      ? Object.freeze({
          url: value.UPSTREAM_FEDERATION_URL,
          verifyTls: value.UPSTREAM_FEDERATION_VERIFY_TLS,
          timeoutMs: value.UPSTREAM_FEDERATION_TIMEOUT_MS,
        })
      : undefined,
    rcFederation: Object.freeze({
      windowMs: value.RC_FEDERATION_WINDOW_MS,
      sleepLimit: value.RC_FEDERATION_SLEEP_LIMIT,
      sleepDelayMs: value.RC_FEDERATION_SLEEP_DELAY_MS,
      rejectLimit: value.RC_FEDERATION_REJECT_LIMIT,
      concurrent: value.RC_FEDERATION_CONCURRENT,
    }),
  });
}

/** `TRUSTED_KEY_SERVERS`: `name ed25519:id base64key [ed25519:id base64key ...]`, notaries separated by commas. */
function parseTrustedKeyServers(text: string): TrustedKeyServer[] {
  if (text.trim() === '') return [];
  return text.split(',').map((entry) => {
    const [serverName, ...rest] = entry.trim().split(/\s+/);
    if (!serverName || rest.length === 0 || rest.length % 2 !== 0) {
      throw new ConfigError(`TRUSTED_KEY_SERVERS is invalid: "${entry.trim()}" is not "server_name key_id public_key ..."`);
    }
    const verifyKeys: Record<string, string> = {};
    for (let i = 0; i < rest.length; i += 2) {
      if (!/^ed25519:[A-Za-z0-9_]+$/.test(rest[i]!)) throw new ConfigError(`TRUSTED_KEY_SERVERS is invalid: ${rest[i]} is not an ed25519 key ID`);
      verifyKeys[rest[i]!] = rest[i + 1]!;
    }
    return { serverName, verifyKeys };
  });
}
