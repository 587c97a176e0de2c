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

export function neo4jCommand(): Command {
  return new Command('neo4j')
    .description('start, stop or check the project\'s local Neo4j (Bolt 127.0.0.1:7687, Browser :7474)')
    .addArgument(new Argument('<action>', 'what to do').choices(['start', 'stop', 'status']))
    .action(async (action: 'start' | 'stop' | 'status') => {
      process.exitCode = await runNeo4jScript(action);
    });
}
