/**
 * npm run fuzz [-- --runs 5000 --importer-runs 200 --seed N]
 * The property-based tests of test/fuzz, many more times: random and hostile requests to the endpoint (bodies,
 * paths, extra Authorization headers and Content-Encodings: src/fuzz/arbitraries.ts, src/fuzz/request-shapes.ts; the
 * same property, src/fuzz/endpoint-property.ts) against the configured Neo4j, with the graph's fingerprint compared
 * before and after; then forged files through the importer (src/fuzz/importer-property.ts), each run's rooms
 * deleted afterwards. Prints how many cases it tried and what the answers were; exits with 1 on a failure,
 * printing the counterexample and the seed that replays it.
 */
import { Command } from 'commander';
import fc from 'fast-check';
import { loadConfig } from '../config';
import { endpointProperty } from '../fuzz/endpoint-property';
import { buildFixture, storeFixture } from '../fuzz/fixture';
import { startFuzzService } from '../fuzz/fuzz-service';
import { graphFingerprint } from '../fuzz/graph-fingerprint';
import { importerProperty } from '../fuzz/importer-property';
import { connectGraph } from '../store/connect';
import { applySchema } from '../store/neo4j';
import { integerOption, runProgram } from './command';

export interface FuzzOptions {
  readonly runs: number;
  readonly importerRuns: number;
  readonly seed?: number;
}

/** Runs both properties; returns whether both held. */
export async function runFuzz(options: FuzzOptions, print: (line: string) => void): Promise<boolean> {
  const { graph, close } = await connectGraph(loadConfig(process.env).neo4j);
  const service = await startFuzzService(graph);
  try {
    await applySchema(graph);
    const fixture = buildFixture();
    await storeFixture(graph, service.keyStore, fixture);
    const seed = options.seed ?? Date.now() % 2 ** 31;

    const before = await graphFingerprint(graph);
    const tally = new Map<string, number>();
    let started = performance.now();
    const endpoint = await fc.check(endpointProperty(fixture, service.url, tally), { numRuns: options.runs, seed });
    const after = await graphFingerprint(graph);
    const answers = [...tally].sort(([a], [b]) => a.localeCompare(b)).map(([status, count]) => `${status}: ${count}`).join(', ');
    print(`endpoint: ${endpoint.numRuns} requests tried in ${seconds(started)} s (seed ${seed}); answers ${answers}`);
    print(`stored data: ${before.nodes} nodes, ${before.relationships} relationships, sha256 ${before.sha256.slice(0, 16)}... ${sameGraph(before, after) ? 'unchanged' : 'CHANGED'}`);
    let ok = report('endpoint', endpoint, print) && sameGraph(before, after);

    started = performance.now();
    const importer = await fc.check(importerProperty(graph, service.url, fixture), { numRuns: options.importerRuns, seed });
    print(`importer: ${importer.numRuns} forged files tried in ${seconds(started)} s (seed ${seed})`);
    ok = report('importer', importer, print) && ok;
    return ok;
  } finally {
    await service.close();
    await close();
  }
}

function report<T>(name: string, result: fc.RunDetails<T>, print: (line: string) => void): boolean {
  if (!result.failed) return true;
  print(`${name}: FAILED after ${result.numRuns} cases; replay with --seed ${result.seed}`);
  print(fc.defaultReportMessage(result) ?? '');
  return false;
}

function sameGraph(a: { nodes: number; relationships: number; sha256: string }, b: typeof a): boolean {
  return a.nodes === b.nodes && a.relationships === b.relationships && a.sha256 === b.sha256;
}

function seconds(started: number): string {
  return ((performance.now() - started) / 1000).toFixed(1);
}

export function fuzzCommand(): Command {
  return new Command('fuzz')
    .description('property-based tests of the endpoint and the importer, many thousands of cases')
    .option('--runs <n>', 'requests to try', integerOption(1), 5000)
    .option('--importer-runs <n>', 'forged files to import', integerOption(0), 200)
    .option('--seed <n>', 'the seed to replay', integerOption(-(2 ** 31)))
    .action(async (options: { runs: number; importerRuns: number; seed?: number }) => {
      const ok = await runFuzz(options, (line) => process.stdout.write(`${line}\n`));
      if (!ok) process.exitCode = 1;
    });
}

if (require.main === module) void runProgram(fuzzCommand());
