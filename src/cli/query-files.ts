/**
 * The analyst queries shipped in cypher/queries/: each file's first line says what it answers ("// Analyst query:
 * ..."); its parameters are the `$names` its statement uses.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CYPHER_DIR, loadCypher } from '../store/cypher-files';

export const QUERIES_DIR = join(CYPHER_DIR, 'queries');

export interface AnalystQuery {
  readonly name: string;
  readonly description: string;
  /** The parameters the statement uses, in order of first use. */
  readonly parameters: readonly string[];
  /** The statement, comments left out. */
  readonly statement: string;
}

/** Every query in `dir`, by name. */
export function listQueries(dir: string = QUERIES_DIR): AnalystQuery[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.cypher'))
    .map((file) => file.slice(0, -'.cypher'.length))
    .sort()
    .map((name) => readQuery(name, dir)!);
}

/** The query called `name`, or undefined when there is none (a name is a file name, never a path). */
export function readQuery(name: string, dir: string = QUERIES_DIR): AnalystQuery | undefined {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) return undefined;
  let source: string;
  try {
    source = readFileSync(join(dir, `${name}.cypher`), 'utf8');
  } catch {
    return undefined;
  }
  const statement = Object.values(loadCypher([name], dir))[0]!;
  return { name, description: describeQuery(source), parameters: parametersOf(statement), statement };
}

/** The first comment line, less its "Analyst query:" prefix. */
export function describeQuery(source: string): string {
  const first = source.split('\n')[0] ?? '';
  return first.startsWith('//') ? first.replace(/^\/\/\s*(Analyst query:\s*)?/, '').trim() : '';
}

/** The `$name` parameters of a statement; string literals are left out, as they may hold a `$` (event IDs). */
export function parametersOf(statement: string): string[] {
  const code = statement.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
  return [...new Set([...code.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]!))];
}
