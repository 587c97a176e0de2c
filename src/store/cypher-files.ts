/**
 * Cypher lives in cypher/*.cypher, one statement per file, named after what it does. Each repository names the
 * files it needs; they are read once when it is built, and a missing one fails start-up with the path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../paths';

export const CYPHER_DIR = join(PROJECT_ROOT, 'cypher');

export function loadCypher<Name extends string>(names: readonly Name[], dir: string = CYPHER_DIR): Readonly<Record<Name, string>> {
  const queries = {} as Record<Name, string>;
  for (const name of names) {
    const path = join(dir, `${name}.cypher`);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new Error(`Cypher file missing: ${path}`);
    }
    queries[name] = stripComments(text);
    if (queries[name].length === 0) throw new Error(`Cypher file is empty: ${path}`);
  }
  return Object.freeze(queries);
}

/** Splits a file of several statements (the schema) at the semicolons that end lines. */
export function statements(text: string): string[] {
  return text
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function stripComments(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('//'))
    .join('\n')
    .trim();
}
