/**
 * Runs one function of scripts/neo4j.mjs (ensureNeo4j, stopNeo4j) in a node process of its own: jest's module
 * sandbox cannot import ESM. Its log lines go to stderr, prefixed with `label`. `ensureNeo4j` with ownerPid leaves
 * a watchdog that stops the server and deletes its home if the test dies.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../../src/paths';

export function neo4jScript(call: string, options: Record<string, unknown>, label = 'neo4j'): Promise<void> {
  const source = `import(${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'scripts', 'neo4j.mjs')).href)})
    .then((m) => m.${call}({ ...JSON.parse(process.env.OPTIONS), log: (line) => process.stderr.write(process.env.LABEL + line + '\\n') }))
    .catch((error) => { process.stderr.write(error.message + '\\n'); process.exitCode = 1; });`;
  return new Promise((resolve, reject) => {
    const env = { ...process.env, OPTIONS: JSON.stringify(options), LABEL: `[${label}] ` };
    const child = execFile(process.execPath, ['--input-type=module', '-e', source], { env }, (error) => (error ? reject(error) : resolve()));
    child.stderr?.pipe(process.stderr);
  });
}
