/**
 * A Synapse database opened for reading: an SQLite file (through sql.js, which reads the whole file into memory) or a
 * PostgreSQL URL (through pg). Both answer the same SQL, written with `?` placeholders.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Client } from 'pg';
import initSqlJs from 'sql.js';

export type SqlValue = string | number | boolean | null;
export type SqlRow = Record<string, SqlValue>;

export interface SynapseDatabase {
  /** Where it was opened from, for messages (a URL without its password). */
  readonly name: string;
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** The names of the tables it has. */
  tables(): Promise<Set<string>>;
  close(): Promise<void>;
}

/** A database that cannot be opened or is not what it should be; its message says which and why. */
export class SynapseSourceError extends Error {}

export function isPostgresUrl(source: string): boolean {
  return /^postgres(ql)?:\/\//i.test(source);
}

export async function openSynapseDatabase(source: string): Promise<SynapseDatabase> {
  return isPostgresUrl(source) ? openPostgres(source) : openSqlite(source);
}

async function openSqlite(path: string): Promise<SynapseDatabase> {
  if (!existsSync(path)) throw new SynapseSourceError(`${path}: no such file`);
  if (!statSync(path).isFile()) throw new SynapseSourceError(`${path}: not a file`);
  // Synapse runs SQLite in WAL mode: while it runs (or after it stopped uncleanly) recent writes are only in the -wal
  // file, which a copy of the main file does not see.
  const wal = `${path}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) {
    throw new SynapseSourceError(
      `${path}: its write-ahead log ${wal} is not empty (is Synapse running?); stop Synapse, or run ` +
        `sqlite3 ${path} 'PRAGMA wal_checkpoint(TRUNCATE)', then import again`,
    );
  }
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(path));
  const run = (sql: string, params: readonly SqlValue[] = []): SqlRow[] => {
    const statement = db.prepare(sql);
    try {
      statement.bind(params.map((value) => (typeof value === 'boolean' ? Number(value) : value)));
      const rows: SqlRow[] = [];
      while (statement.step()) rows.push(statement.getAsObject() as SqlRow);
      return rows;
    } finally {
      statement.free();
    }
  };
  try {
    run('SELECT count(*) FROM sqlite_master');
  } catch (error) {
    db.close();
    throw new SynapseSourceError(`${path}: not an SQLite database (${(error as Error).message})`);
  }
  return {
    name: path,
    query: async (sql, params) => run(sql, params),
    tables: async () => new Set(run(`SELECT name FROM sqlite_master WHERE type = 'table'`).map((row) => String(row.name))),
    close: async () => db.close(),
  };
}

async function openPostgres(url: string): Promise<SynapseDatabase> {
  const name = withoutPassword(url);
  const client = new Client({ connectionString: url });
  // A connection the server ends (PostgreSQL restarted) is reported as an 'error' event, which would end the
  // process unheard; the next query fails instead, and its caller (the follower) reconnects.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new SynapseSourceError(`${name}: cannot connect (${(error as Error).message})`);
  }
  const run = async (sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> => {
    let n = 0;
    const result = await client.query(sql.replace(/\?/g, () => `$${++n}`), [...params]);
    return result.rows as SqlRow[];
  };
  return {
    name,
    query: run,
    tables: async () =>
      new Set(
        (await run(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)).map((row) =>
          String(row.table_name),
        ),
      ),
    close: () => client.end(),
  };
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the PostgreSQL URL';
  }
}
