/**
 * npm run cypher -- NAME [--param key=value ...] [--json] [--max-width N]
 * npm run cypher -- --list
 * Runs one of the analyst queries of cypher/queries/ against the configured Neo4j and prints its rows as a table
 * (or as JSON lines with --json). A parameter's value is read as JSON when it is JSON (numbers, lists, true),
 * else as a string: `--param room_id='!abc:hs1.test' --param count=30 --param latest_events='["$x"]'`.
 */
import { Command } from 'commander';
import neo4j from 'neo4j-driver';
import { loadConfig } from '../config';
import { connectGraph } from '../store/connect';
import { plain, type Graph } from '../store/neo4j';
import { collect, integerOption, runProgram, UsageError } from './command';
import { formatTable } from './format-table';
import { listQueries, type AnalystQuery } from './query-files';

export interface CypherResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

/** `key=value` pairs as parameters: JSON when the value parses as JSON, else the string itself. */
export function parseParams(pairs: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (match === null) throw new UsageError(`--param ${pair}: write it as key=value, e.g. --param room_id='!abc:hs1.test'`);
    params[match[1]!] = parseValue(match[2]!);
  }
  return params;
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The query called `name` with its parameters checked: every one it uses is given and no other. Integers become
 * Neo4j integers (a JavaScript number reaches Cypher as a float, which LIMIT and range() refuse).
 */
export function prepareQuery(name: string, params: Record<string, unknown>, queries: readonly AnalystQuery[] = listQueries()): { query: AnalystQuery; params: Record<string, unknown> } {
  const query = queries.find((candidate) => candidate.name === name);
  if (query === undefined) {
    throw new UsageError(`No query called "${name}". The queries are: ${queries.map((candidate) => candidate.name).join(', ')}`);
  }
  const takes = query.parameters.length > 0 ? `${name} takes ${query.parameters.map((p) => `--param ${p}=...`).join(' ')}` : `${name} takes no parameters`;
  const missing = query.parameters.filter((parameter) => !(parameter in params));
  if (missing.length > 0) throw new UsageError(`Missing ${missing.map((p) => `--param ${p}=...`).join(', ')}: ${takes}`);
  const unknown = Object.keys(params).filter((parameter) => !query.parameters.includes(parameter));
  if (unknown.length > 0) throw new UsageError(`Unknown parameter ${unknown.join(', ')}: ${takes}`);
  return { query, params: Object.fromEntries(Object.entries(params).map(([key, value]) => [key, toCypher(value)])) };
}

function toCypher(value: unknown): unknown {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return neo4j.int(value);
  if (Array.isArray(value)) return value.map(toCypher);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toCypher(item)]));
  return value;
}

/** Runs the query (a read) and returns its columns and rows as the driver gives them. */
export async function runQuery(graph: Graph, query: AnalystQuery, params: Record<string, unknown>): Promise<CypherResult> {
  const { keys, records } = await graph.driver.executeQuery(query.statement, params, { database: graph.database, routing: neo4j.routing.READ });
  return { columns: keys, rows: records.map((record) => keys.map((key) => record.get(key))) };
}

/** "name  description", one query a line. */
export function formatQueryList(queries: readonly AnalystQuery[]): string {
  const width = Math.max(...queries.map((query) => query.name.length));
  return queries.map((query) => `${query.name.padEnd(width)}  ${query.description}`).join('\n');
}

/** Each row as one JSON object, integers as numbers (nodes, paths and relationships as the driver's objects). */
export function formatJsonLines(result: CypherResult): string {
  return result.rows.map((row) => JSON.stringify(Object.fromEntries(result.columns.map((column, i) => [column, plain(row[i])])), jsonReplacer)).join('\n');
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return neo4j.isInt(value) ? (value as { toNumber(): number }).toNumber() : value;
}

export interface CypherCommandOptions {
  readonly name?: string;
  readonly params: readonly string[];
  readonly list?: boolean;
  readonly json?: boolean;
  readonly maxWidth: number;
}

/** What the cypher command prints on stdout. */
export async function runCypher(options: CypherCommandOptions): Promise<string> {
  const queries = listQueries();
  if (options.list) return formatQueryList(queries);
  if (options.name === undefined) throw new UsageError(`Name a query (or --list):\n${formatQueryList(queries)}`);
  const { query, params } = prepareQuery(options.name, parseParams(options.params), queries);
  const { graph, close } = await connectGraph(loadConfig(process.env).neo4j);
  try {
    const result = await runQuery(graph, query, params);
    return options.json ? formatJsonLines(result) : formatTable(result.columns, result.rows, { maxCellWidth: options.maxWidth });
  } finally {
    await close();
  }
}

export function cypherCommand(): Command {
  return new Command('cypher')
    .description('run an analyst query of cypher/queries/ and print its rows')
    .argument('[name]', 'the query: its file name without .cypher (see --list)')
    .option('--param <key=value>', 'a parameter; JSON when the value is JSON (30, ["$a","$b"]), else a string (repeatable)', collect, [])
    .option('--list', 'list the queries with what each answers')
    .option('--json', 'print each row as a JSON line, values whole')
    .option('--max-width <n>', 'cut longer table cells (0: never)', integerOption(0), 100)
    .action(async (name: string | undefined, options: { param: string[]; list?: boolean; json?: boolean; maxWidth: number }) => {
      const output = await runCypher({ name, params: options.param, list: options.list, json: options.json, maxWidth: options.maxWidth });
      process.stdout.write(`${output}\n`);
    });
}

if (require.main === module) void runProgram(cypherCommand());
