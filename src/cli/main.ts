#!/usr/bin/env node
/**
 * maxtryx: the project's one command line (package.json `bin`), one subcommand per job. The `npm run` scripts
 * (import, generate, request, cypher, bench, fuzz, soak) stay as shortcuts to the same commands.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { ConfigError } from '../config';
import { withConfigFile } from '../config-file';
import { PROJECT_ROOT } from '../paths';
import { runProgram, UsageError } from './command';
import { cypherCommand } from './cypher';
import { followCommand } from './follow';
import { generateCommand } from './generate';
import { importCommand } from './import';
import { neo4jCommand } from './neo4j';
import { requestCommand } from './request';
import { serveEnvironmentHelp } from './serve-help';

const BENCH_HELP = `
Benchmarks (the arguments go to npm run bench as they are):
  maxtryx bench [--full] [--seconds 10]       import, walk and endpoint, with baselines; a table and a JSON file
  maxtryx bench walk [--small 1000] [--large 100000] [--runs 200] [--limit 20]
  maxtryx bench import [--events 100000] [--room-version 10] [--warmup 20000]
  maxtryx bench bulk [--events 1000000] [--room-version 10]
  maxtryx bench endpoint [--events 100000] [--seconds 10] [--concurrency 1,16,64] [--limit 20]
  maxtryx bench state [--small 1000] [--large 100000] [--runs 200] [--limit 20]`;

/** What two commands run, loaded only when they run: the service wires real dependencies, the benchmarks need
 * the development dependencies (autocannon). Tests give their own. */
export interface ProgramDeps {
  serve(): Promise<void>;
  runBench(argv: string[]): Promise<void>;
}

const LOADED: ProgramDeps = {
  serve: async () => (await import('../main')).serve(),
  runBench: async (argv) => (await import('./bench')).runBench(argv),
};

/**
 * A command whose module is loaded only when it runs (it needs development dependencies: autocannon, fast-check):
 * its arguments, --help included, go to the loaded command as they are.
 */
function loadedWhenRun(name: string, description: string, load: () => Promise<Command>): Command {
  return new Command(name)
    .description(description)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]', `the options of ${name} (see maxtryx ${name} --help)`)
    .action(async (args: string[]) => {
      const command = (await load()).name(`maxtryx ${name}`).exitOverride().showHelpAfterError('(add --help for the options)');
      await command.parseAsync(args, { from: 'user' });
    });
}

export function program(deps: ProgramDeps = LOADED): Command {
  return new Command('maxtryx')
    .description('get_missing_events on a Neo4j room graph: the service, its data and its tools')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--config <file>', 'a YAML file of settings, keyed by the environment variables\' names (as MAXTRYX_CONFIG); the environment overrides it')
    .hook('preAction', (self, command) => useConfigFile(self.opts<{ config?: string }>().config, command.name()))
    .addCommand(
      new Command('serve')
        .description('run the service (configured by environment variables; see the README)')
        .option('--follow <database>', 'also follow this Synapse PostgreSQL database (as FOLLOW_SYNAPSE_DATABASE; see maxtryx follow)')
        .addHelpText('after', serveEnvironmentHelp)
        .action((opts: { follow?: string }) => {
          if (opts.follow !== undefined) process.env.FOLLOW_SYNAPSE_DATABASE = opts.follow;
          return deps.serve();
        }),
    )
    .addCommand(importCommand())
    .addCommand(followCommand())
    .addCommand(generateCommand())
    .addCommand(requestCommand())
    .addCommand(cypherCommand())
    .addCommand(neo4jCommand())
    .addCommand(
      new Command('bench')
        .description('benchmarks: print figures (walk, import, bulk, state, endpoint, or all)')
        .argument('[args...]', 'the benchmark and its options')
        .allowUnknownOption()
        .addHelpText('after', BENCH_HELP)
        .action((args: string[]) => deps.runBench(args)),
    )
    .addCommand(loadedWhenRun('fuzz', 'property-based tests of the endpoint and the importer, many thousands of cases',
      async () => (await import('./fuzz')).fuzzCommand()))
    .addCommand(loadedWhenRun('soak', 'a long steady load of valid, invalid and unauthorised requests',
      async () => (await import('./soak')).soakCommand()));
}

/**
 * --config FILE (or MAXTRYX_CONFIG): the service reads the file itself, naming it in its errors (src/config-file.ts);
 * for the other commands its settings are put where they read theirs, in the environment, under what it sets already.
 */
function useConfigFile(option: string | undefined, command: string): void {
  const file = option ?? (process.env.MAXTRYX_CONFIG || undefined);
  if (file === undefined) return;
  process.env.MAXTRYX_CONFIG = file;
  if (command === 'serve') return;
  try {
    const { env, fromFile } = withConfigFile(process.env, file);
    for (const key of fromFile) process.env[key] = env[key];
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`Configuration error: ${error.message}`);
    throw error;
  }
}

/** The version in package.json, which the build does not copy into dist. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

if (require.main === module) void runProgram(program());
