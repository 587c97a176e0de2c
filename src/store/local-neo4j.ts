/**
 * The project's own Neo4j (scripts/neo4j.mjs fetches it from Maven Central and starts it), for npm start and the
 * CLIs when NEO4J_URI is not set. That script is plain ESM so it runs before npm dependencies are installed.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../paths';

interface Neo4jScript {
  ensureNeo4j(options?: { log?: (line: string) => void }): Promise<{ uri: string; user?: string; password?: string; browserUrl: string }>;
}

// A real dynamic import: TypeScript compiling to CommonJS would otherwise turn import() into require().
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

export async function ensureLocalNeo4j(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {
  const script = (await importModule(pathToFileURL(join(PROJECT_ROOT, 'scripts', 'neo4j.mjs')).href)) as Neo4jScript;
  const { uri, user, password, browserUrl } = await script.ensureNeo4j({ log });
  return { uri, user, password, browserUrl };
}
