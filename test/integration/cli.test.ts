/**
 * The command line: the exported functions behind each command against the real Neo4j, and the built program
 * (`node dist/src/cli/main.js`, as `maxtryx` runs it) spawned for its help, its query list, its usage errors and a
 * query on an imported room.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import initSqlJs from 'sql.js';
import { UsageError } from '../../src/cli/command';
import { formatQueryList, parseParams, prepareQuery, runCypher, runQuery } from '../../src/cli/cypher';
import { formatTable } from '../../src/cli/format-table';
import { runGenerate } from '../../src/cli/generate';
import { runImport, synapseSource } from '../../src/cli/import';
import { program } from '../../src/cli/main';
import { CONFIG_VARIABLES } from '../../src/config';
import { listQueries, parametersOf } from '../../src/cli/query-files';
import { RoomBuilder, type BuiltEvent } from '../../src/generator/room-builder';
import { readKeysFile } from '../../src/generator/keys-file';
import { liveLine } from '../../src/progress';
import { PROJECT_ROOT } from '../../src/paths';
import type { Graph } from '../../src/store/neo4j';
import { importLines, openTestGraph } from '../helpers/graph';
import { testNeo4j } from '../helpers/neo4j';
import { buildDist } from '../helpers/build';
import { queryGraph } from '../helpers/room-graph';
import { onTerminal, withoutAnsi } from '../helpers/terminal';

const ALICE = '@alice:hs1.test';
const BOB = '@bob:hs2.test';
const MAIN = join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js');

let graph: Graph;
let dir: string;
/** The environment that points the configuration (NEO4J_URI, ...) at the test Neo4j. */
const neo4jEnv: Record<string, string> = {};
const r = new RoomBuilder('10', 'cli');
/** Rooms of their own on every run: the shared development Neo4j keeps what an earlier run imported. */
const RUN = `${process.pid}-${Date.now()}`;
let fork: BuiltEvent, left: BuiltEvent, right: BuiltEvent, merge: BuiltEvent;

beforeAll(async () => {
  const { uri, user, password, database } = testNeo4j();
  Object.assign(neo4jEnv, { NEO4J_URI: uri }, user ? { NEO4J_USER: user, NEO4J_PASSWORD: password } : {}, database ? { NEO4J_DATABASE: database } : {});
  Object.assign(process.env, neo4jEnv);
  graph = await openTestGraph();
  dir = mkdtempSync(join(tmpdir(), 'maxtryx-cli-'));
  r.create(ALICE);
  r.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
  r.add({ type: 'm.room.join_rules', state_key: '', sender: ALICE, content: { join_rule: 'public' } });
  r.add({ type: 'm.room.member', state_key: BOB, sender: BOB, content: { membership: 'join' } });
  fork = r.add({ type: 'm.room.message', sender: ALICE, content: { body: 'fork' } });
  left = r.add({ type: 'm.room.message', sender: ALICE, content: { body: 'left' }, prev: [fork] });
  right = r.add({ type: 'm.room.message', sender: BOB, content: { body: 'right' }, prev: [fork] });
  merge = r.add({ type: 'm.room.message', sender: ALICE, content: { body: 'merge' }, prev: [left, right] });
  expect((await importLines(graph, r.events)).problems).toEqual([]);
  buildDist();
}, 180_000);

afterAll(async () => {
  await graph.driver.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the built program; resolves with its exit code and outputs (never rejects on a non-zero exit). */
function spawnCli(args: readonly string[], script = MAIN): Promise<{ code: number; stdout: string; stderr: string }> {
  return spawnCliWith(args, {}, script);
}

/** spawnCli with more environment variables. */
function spawnCliWith(args: readonly string[], env: Record<string, string>, script = MAIN): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...neo4jEnv, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('cypher', () => {
  it('reads --param values as JSON when they are JSON, else as strings', () => {
    expect(parseParams(['room_id=!abc:hs1.test', 'count=30', 'latest_events=["$a","$b"]', 'event_id=$x', 'flag=true', 'text="10"', 'empty='])).toEqual({
      room_id: '!abc:hs1.test', count: 30, latest_events: ['$a', '$b'], event_id: '$x', flag: true, text: '10', empty: '',
    });
    expect(() => parseParams(['room_id'])).toThrow(new UsageError("--param room_id: write it as key=value, e.g. --param room_id='!abc:hs1.test'"));
  });

  it('takes a query\'s parameters from its statement, leaving string literals out', () => {
    expect(parametersOf("MATCH (e {event_id: $event_id}) WHERE e.x = '$not_a_param' RETURN e LIMIT $count")).toEqual(['event_id', 'count']);
    expect(Object.fromEntries(listQueries().map((query) => [query.name, query.parameters]))).toEqual({
      'depth-histogram': ['room_id', 'bucket'],
      'events-per-sender': ['room_id'],
      'events-per-server': ['room_id'],
      forks: ['room_id'],
      'forks-and-merges': ['room_id'],
      'forward-extremities': ['room_id'],
      'get-missing-events': ['latest_events', 'room_id', 'min_depth', 'earliest_events', 'limit'],
      'joined-servers': ['room_id'],
      'missing-events': ['room_id'],
      'newest-events': ['room_id', 'count'],
      'path-between-events': ['from_event', 'to_event', 'room_id'],
      redactions: ['room_id'],
      'rejected-events': ['room_id'],
      rooms: [],
      'state-at-event': ['event_id', 'room_id'],
      'state-key-timeline': ['state_key', 'room_id', 'type'],
    });
  });

  it('refuses an unknown query, a missing parameter and an unknown one, saying what it takes', () => {
    const names = listQueries().map((query) => query.name).join(', ');
    expect(() => prepareQuery('nope', {})).toThrow(new UsageError(`No query called "nope". The queries are: ${names}`));
    expect(() => prepareQuery('newest-events', { room_id: '!a:b' })).toThrow(
      new UsageError('Missing --param count=...: newest-events takes --param room_id=... --param count=...'),
    );
    expect(() => prepareQuery('rooms', { room: 'x' })).toThrow(new UsageError('Unknown parameter room: rooms takes no parameters'));
  });

  it('prints a table: nodes by their key, paths as arrows, numbers aligned right', async () => {
    const { query, params } = prepareQuery('forks-and-merges', { room_id: r.roomId });
    const result = await runQuery(graph, query, params);
    const width = fork.event_id.length;
    const pad = (text: string) => text.padEnd(width);
    expect(formatTable(result.columns, result.rows, { maxCellWidth: 100 })).toBe(
      [
        `${pad('event_id')} | type           | depth | kind  | prev_events | children`,
        `${'-'.repeat(width)}-+----------------+-------+-------+-------------+---------`,
        `${merge.event_id} | m.room.message |     7 | merge |           2 |        0`,
        `${fork.event_id} | m.room.message |     5 | fork  |           1 |        2`,
        '(2 rows)',
      ].join('\n'),
    );
    const path = prepareQuery('path-between-events', { room_id: r.roomId, from_event: merge.event_id, to_event: fork.event_id });
    const found = await runQuery(graph, path.query, path.params);
    const cells = formatTable(found.columns, found.rows, { maxCellWidth: 0 }).split('\n')[2]!.split(' | ');
    // Either middle event is a shortest path; the table shows the one found, with the arrows the edges point.
    expect(cells.slice(0, 2)).toEqual(['from_event is newer', '   2']);
    expect([`${merge.event_id} -> ${left.event_id} -> ${fork.event_id}`, `${merge.event_id} -> ${right.event_id} -> ${fork.event_id}`]).toContain(cells[3]);
    const reversed = prepareQuery('path-between-events', { room_id: r.roomId, from_event: fork.event_id, to_event: merge.event_id });
    const upwards = await runQuery(graph, reversed.query, reversed.params);
    const up = formatTable(upwards.columns, upwards.rows, { maxCellWidth: 0 });
    // event_ids read from from_event; the path is as Neo4j found it, from the newer event along its edges.
    const [, hops, ids, drawn] = up.split('\n')[2]!.split(' | ');
    expect([hops, ids!.split(', ')[0], drawn]).toEqual(['   2', `[${fork.event_id}`, expect.stringMatching(new RegExp(`^\\${merge.event_id} -> \\$\\S+ -> \\${fork.event_id}$`))]);
    expect(formatTable(['a', 'b'], [['x'.repeat(30), null]], { maxCellWidth: 10 })).toBe('a          | b\n-----------+-----\nxxxxxxxxx… | null\n(1 row)');
  });

  it('runs a query by name with JSON parameters, as a table or JSON lines', async () => {
    const options = { name: 'get-missing-events', maxWidth: 100 };
    const params = [`room_id=${r.roomId}`, `latest_events=["${merge.event_id}"]`, 'earliest_events=[]', 'limit=2', 'min_depth=0'];
    const lines = await runCypher({ ...options, params, json: true });
    const ids = lines.split('\n').map((line) => (JSON.parse(line) as { event_id: string }).event_id);
    expect(ids).toEqual([left, right].sort((a, b) => a.pdu.origin_server_ts as number - (b.pdu.origin_server_ts as number)).map((event) => event.event_id));
    expect(JSON.parse(lines.split('\n')[0]!)).toMatchObject({ depth: 6, type: 'm.room.message', level: 1 });
    expect(await runCypher({ ...options, params: [], list: true })).toBe(formatQueryList(listQueries()));
    await expect(runCypher({ ...options, name: undefined, params: [] })).rejects.toThrow(UsageError);
  });
});

describe('import and generate', () => {
  it('generates a room, writing plain progress lines when not on a terminal, then imports it', async () => {
    const out = join(dir, 'room.jsonl');
    const stream = new PassThrough();
    let written = '';
    stream.on('data', (chunk) => (written += chunk));
    // A clock that moves 1 s per reading: a plain line at most every 2 s, so for every second event.
    let clock = 0;
    const line = await runGenerate({
      events: 5, roomVersion: '10', seed: `cli/generate/${RUN}`, servers: 2, out,
      progress: { stream: stream as unknown as NodeJS.WriteStream, live: false, now: () => (clock += 1000) },
    });
    expect(line).toBe(`Wrote 5 events to ${out} and the servers' keys to ${out}.keys.json`);
    expect(written).toBe('... 2 events\n... 4 events\n');
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(5);
    const { summary, skipped } = await runImport({ files: [out], rooms: [], progress: { live: false } });
    expect(skipped).toBe(0);
    expect(summary).toMatch(/^Imported 5 new events \(0 already stored\) in 1 rooms; 0 lines skipped, 0 stored redacted for a content hash mismatch; 0 rejected, 0 soft-failed, 0 waiting for missing events; /);
    const roomId = readKeysFile(`${out}.keys.json`).room_id;
    expect(await queryGraph(graph, 'MATCH (e:Event {room_id: $room_id}) RETURN count(e) AS events', { room_id: roomId })).toEqual([{ events: 5 }]);
  });

  it('draws a live display on a terminal: the step, its bar, then done (the built generate in a pseudo-terminal)', async () => {
    // util-linux's script(1) gives the program a terminal; listr2 draws with ANSI codes, stripped here.
    const out = join(dir, 'live.jsonl');
    const command = `${process.execPath} ${MAIN} generate --events 3000 --seed cli/live --out ${out}`;
    const { code, output } = await onTerminal(command, { cwd: PROJECT_ROOT, columns: 100, rows: 30 });
    expect(code).toBe(0);
    const screen = withoutAnsi(output);
    expect(screen).toMatch(/› \[#*\.*\] +\d+% \d+ events\n/);
    expect(screen).toMatch(new RegExp(`✔ Generating 3000 events into ${out} \\[\\d+(\\.\\d)?s\\]\\n`));
    expect(screen.endsWith(`Wrote 3000 events to ${out} and the servers' keys to ${out}.keys.json\n`)).toBe(true);
    expect(liveLine({ text: '7 events', fraction: 0.5 })).toBe(`[${'#'.repeat(15)}${'.'.repeat(15)}]  50% 7 events`);
    expect(liveLine({ text: '7 events' })).toBe('7 events');
  });

  it('refuses files together with --from-synapse, and --room without it', async () => {
    await expect(runImport({ files: ['a.jsonl'], fromSynapse: 'x.db', rooms: [] })).rejects.toThrow(new UsageError('Give files or --from-synapse DATABASE, not both'));
    await expect(runImport({ files: [], rooms: ['!a:b'] })).rejects.toThrow(new UsageError('--room needs --from-synapse DATABASE'));
  });

  it('imports a room from a Synapse-shaped SQLite database through the built npm run import', async () => {
    const s = new RoomBuilder('10', `cli/synapse/${RUN}`);
    s.create(ALICE);
    s.add({ type: 'm.room.member', state_key: ALICE, sender: ALICE, content: { membership: 'join' } });
    s.add({ type: 'm.room.message', sender: ALICE, content: { body: 'from synapse' } });
    const other = new RoomBuilder('10', `cli/synapse-other/${RUN}`);
    other.create(BOB);
    const file = join(dir, 'homeserver.db');
    const SQL = await initSqlJs();
    const db = new SQL.Database();
    db.run(`CREATE TABLE rooms (room_id TEXT PRIMARY KEY, room_version TEXT);
            CREATE TABLE events (event_id TEXT PRIMARY KEY, room_id TEXT, sender TEXT, topological_ordering INTEGER, stream_ordering INTEGER, received_ts INTEGER);
            CREATE TABLE event_json (event_id TEXT PRIMARY KEY, room_id TEXT, internal_metadata TEXT, json TEXT, format_version INTEGER);
            CREATE TABLE redactions (event_id TEXT PRIMARY KEY, redacts TEXT, have_censored BOOLEAN, recheck BOOLEAN)`);
    let stream = 0;
    for (const room of [s, other]) {
      db.run('INSERT INTO rooms VALUES (?, ?)', [room.roomId, '10']);
      for (const event of room.events) {
        db.run('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)', [event.event_id, room.roomId, event.pdu.sender as string, event.depth, (stream += 1), 1_700_000_000_000 + stream]);
        db.run('INSERT INTO event_json VALUES (?, ?, ?, ?, 3)', [event.event_id, room.roomId, '{}', JSON.stringify(event.pdu)]);
      }
    }
    // Synapse redacted the message (a confirmed redaction): it gives the event pruned, so its content hash cannot
    // match. That is Synapse's redaction, said once for the room, not a warning an event.
    db.run('INSERT INTO redactions VALUES (?, ?, 0, 0)', ['$redaction-of-the-message', s.events[2]!.event_id]);
    writeFileSync(file, db.export());
    db.close();
    const { code, stdout, stderr } = await spawnCli(['--from-synapse', file, '--room', s.roomId], join(PROJECT_ROOT, 'dist', 'src', 'cli', 'import.js'));
    expect({ code, stdout }).toEqual({ code: 0, stdout: '' });
    const expected = `${s.roomId}: 1 event redacted by Synapse, stored as such\nImported 3 new events (0 already stored) in 1 rooms; 0 lines skipped, 1 stored redacted for a content hash mismatch; `;
    expect(stderr.slice(0, expected.length)).toBe(expected);
    expect(stderr).not.toContain('content hash of');
    expect([synapseSource(file, []).name, synapseSource(file, [s.roomId]).name, synapseSource(file, [s.roomId, other.roomId]).name]).toEqual([
      `every room of ${file}`, `${s.roomId} from ${file}`, `2 rooms from ${file}`,
    ]);
    const stored = await queryGraph<{ event_id: string }>(graph, 'MATCH (e:Event) WHERE e.room_id IN $rooms RETURN e.event_id AS event_id ORDER BY e.depth', {
      rooms: [s.roomId, other.roomId],
    });
    expect(stored.map((row) => row.event_id)).toEqual(s.events.map((event) => event.event_id));
    const missing = await spawnCli(['import', '--from-synapse', join(dir, 'absent.db')]);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: `import failed: ${join(dir, 'absent.db')}: no such file\n` });
  });
});

describe('import of a file that is not JSON lines', () => {
  it('an SQLite database named as a file: exit code 2 at once, naming --from-synapse', async () => {
    const SQL = await initSqlJs();
    const db = new SQL.Database();
    db.run('CREATE TABLE events (event_id TEXT PRIMARY KEY)');
    const file = join(dir, 'named-as-a-file.db');
    writeFileSync(file, db.export());
    db.close();
    // Neo4j is not needed to say so: an unreachable one is never reached.
    expect(await spawnCliWith(['import', file], { NEO4J_URI: 'bolt://127.0.0.1:1' })).toEqual({
      code: 2,
      stdout: '',
      stderr: `${file} is an SQLite database, not JSON lines: to import a Synapse database, use --from-synapse ${file}\n`,
    });
  });

  it('a file whose first lines are none of them JSON objects: their 5 problems, then exit code 2 (not a line of problems a line)', async () => {
    const lines = ['\u0000\u0001binary', '42', 'PK\u0003\u0004', '\u00ff\u00fe', 'not json', 'sixth', 'seventh', '{"type":'];
    const file = join(dir, 'binary.dat');
    writeFileSync(file, `${lines.join('\n')}\n`, 'latin1');
    const jsonError = (text: string) => {
      try {
        JSON.parse(text);
      } catch (error) {
        return `not JSON: ${(error as Error).message}`;
      }
      return 'not a JSON object';
    };
    const read = readFileSync(file, 'utf8').split('\n');
    expect(await spawnCli(['import', file])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        read.slice(0, 5).map((line, i) => `${file}:${i + 1}: error: ${jsonError(line)}\n`).join('') +
        `${file}: the first 5 lines are not JSON objects, so this is not a JSON-lines file of PDUs (a Synapse database is imported with --from-synapse DATABASE)\n`,
    });
  });
});

describe('maxtryx, the built program', () => {
  it('--help lists the subcommands', async () => {
    const { code, stdout } = await spawnCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toBe(`Usage: maxtryx [options] [command]

get_missing_events on a Neo4j room graph: the service, its data and its tools

Options:
  -V, --version                print the version
  --config <file>              a YAML file of settings, keyed by the environment
                               variables' names (as MAXTRYX_CONFIG); the
                               environment overrides it
  -h, --help                   display help for command

Commands:
  serve [options]              run the service (configured by environment
                               variables; see the README)
  import [options] [files...]  import federation PDUs (JSON lines, or a Synapse
                               database) into the room graph
  follow [options]             import the rooms of a Synapse PostgreSQL
                               database, then keep importing what Synapse
                               persists
  generate [options]           write a real signed room as JSON lines, and its
                               servers' keys to FILE.keys.json
  request [options]            send a signed get_missing_events request
                               (X-Matrix) as one of a generated room's servers
  cypher [options] [name]      run an analyst query of cypher/queries/ and print
                               its rows
  neo4j <action>               start, stop or check the project's local Neo4j
                               (Bolt 127.0.0.1:7687, Browser :7474)
  bench [args...]              benchmarks: print figures (walk, import, bulk,
                               state, endpoint, or all)
  fuzz [args...]               property-based tests of the endpoint and the
                               importer, many thousands of cases
  soak [args...]               a long steady load of valid, invalid and
                               unauthorised requests
  help [command]               display help for command
`);
  });

  it('serve --help lists every environment variable with its default; neo4j --help names the configured ports', async () => {
    const serve = await spawnCli(['serve', '--help']);
    const variables = serve.stdout.slice(serve.stdout.indexOf('Environment variables'));
    const rows = [...variables.matchAll(/^ {2}([A-Z0-9_]+) +(.+)$/gm)].map((match) => [match[1], match[2]]);
    expect(rows.map(([name]) => name)).toEqual([...CONFIG_VARIABLES]);
    expect(rows.slice(0, 7)).toEqual([
      ['SERVER_NAME', 'localhost:8008'], ['HOST', '127.0.0.1'], ['PORT', '8008'], ['OPS_HOST', '127.0.0.1'], ['OPS_PORT', '9898'],
      ['SIGNING_KEY_PATH', '.data/signing.key'], ['NEO4J_URI', "(unset: the project's local Neo4j, started if needed)"],
    ]);
    expect(Object.fromEntries(rows)).toMatchObject({
      NEO4J_QUERY_TIMEOUT_MS: '5000', LOG_LEVEL: 'info', LOG_FORMAT: '(unset: pretty on a terminal, json otherwise)', TRUSTED_KEY_SERVERS: '(empty)',
      RC_FEDERATION_CONCURRENT: '3',
    });
    const neo4jHelp = await spawnCliWith(['neo4j', '--help'], { NEO4J_BOLT_PORT: '17687', NEO4J_HTTP_PORT: '17474', NEO4J_GUIDE_PORT: '' });
    expect(neo4jHelp.stdout).toContain("start, stop or check the project's local Neo4j (Bolt 127.0.0.1:17687, Browser\n:17474)");
    expect(neo4jHelp.stdout.endsWith(
      '\nPorts (a server already running keeps its own; npm run neo4j:status names them):\n' +
        '  NEO4J_BOLT_PORT   17687\n  NEO4J_HTTP_PORT   17474\n  NEO4J_GUIDE_PORT  7476 (the room guide; another free port when it is taken)\n',
    )).toBe(true);
  });

  it('--config FILE: a bad file or value is a configuration error naming the file and the key, exit code 2', async () => {
    const badPort = join(dir, 'bad-port.yaml');
    writeFileSync(badPort, 'SERVER_NAME: example.org\nPORT: 99999\n');
    expect(await spawnCli(['--config', badPort, 'serve'])).toEqual({
      code: 2, stdout: '', stderr: `Configuration error: ${badPort}: PORT is invalid: must be less than or equal to 65535\n`,
    });
    // MAXTRYX_CONFIG as well; the environment's value wins over the file's.
    expect(await spawnCliWith(['serve'], { MAXTRYX_CONFIG: badPort, PORT: 'eighty' })).toEqual({
      code: 2, stdout: '', stderr: 'Configuration error: PORT is invalid: must be a number\n',
    });
    const lower = join(dir, 'lower.yaml');
    writeFileSync(lower, 'server_name: example.org\n');
    expect(await spawnCli(['import', '--config', lower, 'room.jsonl'])).toEqual({
      code: 2, stdout: '', stderr: `Configuration error: ${lower}: server_name is not a setting; did you mean SERVER_NAME? (the keys are written as the environment variables)\n`,
    });
  });

  it('each subcommand has --help with its options', async () => {
    const helps = await Promise.all(['serve', 'import', 'generate', 'request', 'cypher', 'neo4j', 'bench', 'fuzz', 'soak', 'follow'].map((name) => spawnCli([name, '--help'])));
    expect(helps.map(({ code, stdout }) => [code, stdout.split('\n')[0]])).toEqual([
      [0, 'Usage: maxtryx serve [options]'],
      [0, 'Usage: maxtryx import [options] [files...]'],
      [0, 'Usage: maxtryx generate [options]'],
      [0, 'Usage: maxtryx request [options]'],
      [0, 'Usage: maxtryx cypher [options] [name]'],
      [0, 'Usage: maxtryx neo4j [options] <action>'],
      [0, 'Usage: maxtryx bench [options] [args...]'],
      [0, 'Usage: maxtryx fuzz [options]'],
      [0, 'Usage: maxtryx soak [options]'],
      [0, 'Usage: maxtryx follow [options]'],
    ]);
    const options = (text: string) => [...text.matchAll(/^ {2}(--[a-z0-9-]+)/gm)].map((match) => match[1]);
    expect(options(helps[1]!.stdout)).toEqual(['--from-synapse', '--room', '--bulk', '--replace', '--neo4j-home', '--batch-size']);
    expect(options(helps[2]!.stdout)).toEqual(['--out', '--events', '--room-version', '--seed', '--servers', '--history-visibility', '--conflicts']);
    expect(options(helps[3]!.stdout)).toEqual(['--room', '--latest', '--earliest', '--limit', '--min-depth', '--as', '--keys', '--url', '--destination']);
    expect(options(helps[4]!.stdout)).toEqual(['--param', '--list', '--json', '--max-width']);
    expect(helps[6]!.stdout).toContain('maxtryx bench walk [--small 1000] [--large 100000] [--runs 200] [--limit 20]');
    expect(helps[6]!.stdout).toContain('maxtryx bench bulk [--events 1000000] [--room-version 10]');
    expect(options(helps[7]!.stdout)).toEqual(['--runs', '--importer-runs', '--seed']);
    expect(options(helps[8]!.stdout)).toEqual(['--seconds', '--rate', '--events', '--connections', '--measure-seconds']);
    expect(options(helps[0]!.stdout)).toEqual(['--follow']);
    expect(options(helps[9]!.stdout)).toEqual(['--from-synapse', '--room', '--page-size', '--poll-ms']);
  });

  it('follow refuses an SQLite database (it cannot be read while Synapse writes it): exit code 2, saying so', async () => {
    expect(await spawnCli(['follow', '--from-synapse', '/var/lib/synapse/homeserver.db'])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        '--from-synapse must be a postgres:// URL: follow reads Synapse\'s PostgreSQL while Synapse writes it (an SQLite ' +
        'database can only be imported once Synapse is stopped: maxtryx import --from-synapse FILE)\n',
    });
  });

  it('cypher --list lists every query with its first line', async () => {
    const { code, stdout } = await spawnCli(['cypher', '--list']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${formatQueryList(listQueries())}\n`);
    expect(stdout.split('\n')).toContain(
      'get-missing-events   exactly what a get_missing_events call returns, in the same order.',
    );
  });

  it('an unknown query, a missing parameter or a bad option: a message and exit code 2', async () => {
    expect(await spawnCli(['cypher', 'nope'])).toEqual({
      code: 2, stdout: '', stderr: `No query called "nope". The queries are: ${listQueries().map((query) => query.name).join(', ')}\n`,
    });
    expect(await spawnCli(['cypher', 'state-at-event'])).toEqual({
      code: 2, stdout: '', stderr: 'Missing --param event_id=..., --param room_id=...: state-at-event takes --param event_id=... --param room_id=...\n',
    });
    expect(await spawnCli(['generate', '--events', 'many', '--out', join(dir, 'x.jsonl')])).toEqual({
      code: 2, stdout: '', stderr: "error: option '--events <n>' argument 'many' is invalid. not an integer.\n(add --help for the options)\n",
    });
    expect(await spawnCli(['soak', '--seconds', '0'])).toEqual({
      code: 2, stdout: '', stderr: "error: option '--seconds <n>' argument '0' is invalid. must be at least 1.\n(add --help for the options)\n",
    });
  });

  it('runs a query on the imported room and prints the table', async () => {
    const { code, stdout } = await spawnCli(['cypher', 'events-per-server', '--param', `room_id=${r.roomId}`]);
    expect({ code, stdout }).toEqual({
      code: 0,
      stdout: [
        'server   | senders | events | state_events | rejected',
        '---------+---------+--------+--------------+---------',
        'hs1.test |       1 |      6 |            3 |        0',
        'hs2.test |       1 |      2 |            1 |        0',
        '(2 rows)',
        '',
      ].join('\n'),
    });
  });

  it('bench hands its arguments to runBench as they are', async () => {
    const calls: string[][] = [];
    const cli = program({ serve: async () => {}, runBench: async (argv) => void calls.push(argv) });
    for (const args of [['bench'], ['bench', 'walk', '--runs', '5'], ['bench', '--full', '--seconds', '3']]) {
      await cli.parseAsync(['node', 'maxtryx', ...args]);
    }
    expect(calls).toEqual([[], ['walk', '--runs', '5'], ['--full', '--seconds', '3']]);
  });
});
