/**
 * The project's own Neo4j (scripts/neo4j.mjs fetches it from Maven Central and starts it), for npm start and the
 * CLIs when NEO4J_URI is not set, and for the bulk import, which stops it, loads its database with neo4j-admin and
 * starts it again. That script is plain ESM so it runs before npm dependencies are installed.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../paths';

type Log = (line: string) => void;

export interface LocalNeo4jInfo {
  readonly uri: string;
  readonly user?: string;
  readonly password?: string;
  readonly browserUrl: string;
  readonly home: string;
  readonly boltPort: number;
  readonly httpPort: number;
  readonly guidePort?: number;
}

/** The parts of scripts/neo4j.mjs used here. */
export interface Neo4jScript {
  readonly DEFAULT_HOME: string;
  ensureNeo4j(options?: { home?: string; boltPort?: number; httpPort?: number; guidePort?: number; log?: Log }): Promise<LocalNeo4jInfo>;
  stopNeo4j(options?: { home?: string; log?: Log }): Promise<boolean>;
  adminImport(options: {
    home?: string;
    nodes: readonly string[];
    relationships: readonly { type: string; file: string }[];
    multiline?: boolean;
    arrayDelimiter?: string;
    log?: Log;
  }): Promise<number>;
}

// A real dynamic import: TypeScript compiling to CommonJS would otherwise turn import() into require().
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

export async function neo4jScript(): Promise<Neo4jScript> {
  return (await importModule(pathToFileURL(join(PROJECT_ROOT, 'scripts', 'neo4j.mjs')).href)) as Neo4jScript;
}

export async function ensureLocalNeo4j(log: Log = (line) => process.stderr.write(`${line}\n`)) {
  const { uri, user, password, browserUrl } = await (await neo4jScript()).ensureNeo4j({ log });
  return { uri, user, password, browserUrl };
}
