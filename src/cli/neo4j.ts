/**
 * maxtryx neo4j start|stop|status: the project's local Neo4j, through scripts/neo4j.mjs (plain Node, so it also
 * runs before node_modules exists, as npm run neo4j:start does).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Argument, Command } from 'commander';
import { PROJECT_ROOT } from '../paths';

/** Runs scripts/neo4j.mjs with the action; resolves with its exit code. */
export function runNeo4jScript(action: 'start' | 'stop' | 'status'): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'scripts', 'neo4j.mjs'), action], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** The port scripts/neo4j.mjs starts the server on: the variable's when it is set, else the default. */
function port(variable: 'NEO4J_BOLT_PORT' | 'NEO4J_HTTP_PORT' | 'NEO4J_GUIDE_PORT', fallback: number): string {
  const value = process.env[variable]?.trim();
  return value ? value : String(fallback);
}

export function neo4jCommand(): Command {
  return new Command('neo4j')
    .description(`start, stop or check the project's local Neo4j (Bolt 127.0.0.1:${port('NEO4J_BOLT_PORT', 7687)}, Browser :${port('NEO4J_HTTP_PORT', 7474)})`)
    .addArgument(new Argument('<action>', 'what to do').choices(['start', 'stop', 'status']))
    .action(async (action: 'start' | 'stop' | 'status') => {
      process.exitCode = await runNeo4jScript(action);
    })
    .addHelpText('after', () =>
      '\nPorts (a server already running keeps its own; npm run neo4j:status names them):\n' +
      `  NEO4J_BOLT_PORT   ${port('NEO4J_BOLT_PORT', 7687)}\n  NEO4J_HTTP_PORT   ${port('NEO4J_HTTP_PORT', 7474)}\n` +
      `  NEO4J_GUIDE_PORT  ${port('NEO4J_GUIDE_PORT', 7476)} (the room guide; another free port when it is taken)`);
}
