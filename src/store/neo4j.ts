/**
 * The Neo4j edge: the driver, transactions, the schema and the one place where Neo4j integers become numbers.
 * Reads go through executeRead and writes through executeWrite, so a neo4j:// routing URI to a cluster works and
 * transient errors are retried by the driver.
 */
import neo4j, { Driver, ManagedTransaction, RecordShape } from 'neo4j-driver';
import { Neo4jAvailability } from './availability';
import { loadCypher, statements } from './cypher-files';

export interface Neo4jSettings {
  readonly uri: string;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
  /** The driver's connection pool size; the driver's default (100) when unset. */
  readonly maxConnections?: number;
  /** How long a hot-path read (readOnce) may run in Neo4j before it is stopped; none when unset. */
  readonly queryTimeoutMs?: number;
}

export interface Graph {
  readonly driver: Driver;
  readonly database: string | undefined;
  readonly queryTimeoutMs?: number;
  /** The driver's connection pool size, when set (NEO4J_MAX_CONNECTIONS). */
  readonly maxConnections?: number;
  /** For readOnce: fail at once while Neo4j is known to be gone (src/store/availability.ts). */
  readonly availability?: Neo4jAvailability;
}

// Fail fast when Neo4j is down or the pool is exhausted: a request waits at most this long for a connection, and
// answers 503 M_UNAVAILABLE instead of hanging (the driver's defaults are 30 s and 60 s).
const CONNECT_TIMEOUT_MS = 2_000;
const ACQUIRE_TIMEOUT_MS = 2_000;

export function openGraph(settings: Neo4jSettings): Graph {
  const auth = settings.user ? neo4j.auth.basic(settings.user, settings.password ?? '') : undefined;
  const driver = neo4j.driver(settings.uri, auth, {
    disableLosslessIntegers: false,
    connectionTimeout: CONNECT_TIMEOUT_MS,
    connectionAcquisitionTimeout: ACQUIRE_TIMEOUT_MS,
    ...(settings.maxConnections === undefined ? {} : { maxConnectionPoolSize: settings.maxConnections }),
  });
  const database = settings.database || undefined;
  return { driver, database, queryTimeoutMs: settings.queryTimeoutMs, maxConnections: settings.maxConnections, availability: new Neo4jAvailability(driver, { database, queryTimeoutMs: settings.queryTimeoutMs }) };
}

export async function readTx<T>(graph: Graph, work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
  const session = graph.driver.session({ database: graph.database, defaultAccessMode: neo4j.session.READ });
  try {
    return await session.executeRead(work);
  } finally {
    await session.close();
  }
}

export async function writeTx<T>(graph: Graph, work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
  const session = graph.driver.session({ database: graph.database, defaultAccessMode: neo4j.session.WRITE });
  try {
    return await session.executeWrite(work);
  } finally {
    await session.close();
  }
}

/**
 * One read query in an auto-commit transaction: RUN and PULL in one round trip, no BEGIN or COMMIT. For the hot
 * path's single-statement reads, which need no retry (a failed request is the caller's to retry), and which fail at
 * once while Neo4j is known to be gone (graph.availability). Values come as the driver gives them (no integer
 * conversion): for queries that return no integers, or callers that convert them.
 */
export async function readOnce<T extends RecordShape>(graph: Graph, query: string, params: object): Promise<T[]> {
  graph.availability?.assertUp();
  const session = graph.driver.session({ database: graph.database, defaultAccessMode: neo4j.session.READ });
  try {
    const config = graph.queryTimeoutMs === undefined ? undefined : { timeout: graph.queryTimeoutMs };
    const result = await withoutStackTrace(() => session.run(query, params, config));
    return result.records.map((record) => record.toObject() as T);
  } catch (error) {
    graph.availability?.failed(error);
    throw error;
  } finally {
    await session.close();
  }
}

/**
 * The driver captures a stack trace for every Result it creates, to decorate a later error; under load that is
 * about 5% of the service's CPU (node --cpu-prof). The hot path's errors are turned into Matrix errors and logged
 * without it, so its Results are created with stack traces off.
 */
function withoutStackTrace<T>(create: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return create();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Runs a query and returns its rows with every Neo4j integer turned into a number. */
export async function rows<T extends RecordShape>(tx: ManagedTransaction, query: string, params: object): Promise<T[]> {
  const result = await tx.run(query, params);
  return result.records.map((record) => plain(record.toObject()) as T);
}

/** The database hits of one run of a query, from Neo4j's PROFILE: the work it did, whatever the machine's load. */
export async function profileDbHits(tx: ManagedTransaction, query: string, params: object): Promise<number> {
  const result = await tx.run(`PROFILE ${query}`, params);
  const total = (plan: { dbHits: number; children: unknown[] }): number =>
    plan.dbHits + plan.children.reduce<number>((sum, child) => sum + total(child as typeof plan), 0);
  return total(result.summary.profile as unknown as { dbHits: number; children: unknown[] });
}

/** A Neo4j value with every Neo4j integer, at any depth, turned into a number. */
export function plain(value: unknown): unknown {
  if (neo4j.isInt(value)) return (value as { toNumber(): number }).toNumber();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object' && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** Integers sent to Neo4j must be Neo4j integers: a JavaScript number arrives as a float. */
export function int(value: number) {
  return neo4j.int(value);
}

const SCHEMA = loadCypher(['schema', 'schema-await', 'schema-check']);

/** Throws unless Neo4j answers and the schema is applied: what /ready reports. */
export async function assertReady(graph: Graph): Promise<void> {
  const [row] = await readOnce<{ found: unknown }>(graph, SCHEMA['schema-check'], {});
  if (plain(row?.found) !== 3) throw new Error('the room graph schema is not applied');
}

export async function applySchema(graph: Graph): Promise<void> {
  const session = graph.driver.session({ database: graph.database });
  try {
    for (const statement of statements(SCHEMA.schema)) await session.run(statement);
    await session.run(SCHEMA['schema-await']);
  } finally {
    await session.close();
  }
}

export async function verifyConnectivity(graph: Graph): Promise<void> {
  await graph.driver.verifyConnectivity({ database: graph.database });
}
