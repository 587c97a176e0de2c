/**
 * The README's first commands on a real pseudo-terminal, where the progress display is live (listr2): `maxtryx
 * import` of a 3,000-event room, and `npm start` in a copy of the project (its own local Neo4j on free ports, its
 * own .data), then the `Try:` line it prints, run as printed. A start-up after an import that stopped before the
 * room's state was settled finishes that import instead of serving a room that answers 403.
 * util-linux's script(1) gives each program its terminal, as a user's terminal would.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import neo4j from 'neo4j-driver';
import { runGenerate } from '../../src/cli/generate';
import { readKeysFile } from '../../src/generator/keys-file';
import { PROJECT_ROOT } from '../../src/paths';
import { buildDist } from '../helpers/build';
import { freePorts } from '../helpers/free-ports';
import { testNeo4j } from '../helpers/neo4j';
import { onTerminal, withoutAnsi } from '../helpers/terminal';

const MAIN = join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js');
const START_CAP_MS = 300_000;

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'maxtryx-first-run-'));
  buildDist();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** What a terminal shows of the output (see withoutAnsi), less the frames of npm's spinner that npm erased. */
function screen(output: string): string {
  // npm's spinner: a frame, then "cursor to column 1, erase to the end of the line" takes it off the screen.
  return withoutAnsi(output.replace(/[^\n\r]*\u001b\[1G\u001b\[0?K/g, ''));
}

/** Runs `command` in a 120-column pseudo-terminal; resolves with its exit code and what its screen shows. */
async function onScreen(command: string, options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; output: string }> {
  const { code, output } = await onTerminal(command, options);
  return { code, output: screen(output) };
}

describe('maxtryx import on a terminal', () => {
  it('shows each step done and ends with the summary, exit 0 (it crashed reporting progress to a finished step)', async () => {
    const out = join(dir, 'room.jsonl');
    await runGenerate({ events: 3000, roomVersion: '10', seed: `first-run/import/${Date.now()}`, servers: 2, out, progress: { live: false } });
    const { uri, user, password } = testNeo4j();
    const env = { ...process.env, NEO4J_URI: uri, NEO4J_USER: user, NEO4J_PASSWORD: password };
    const { code, output } = await onScreen(`${process.execPath} ${MAIN} import ${out}`, { cwd: PROJECT_ROOT, env });
    expect(output).not.toMatch(/✖|import failed/);
    expect(output).toMatch(new RegExp(`✔ Importing ${out} \\[\\d+(\\.\\d)?s\\]\\n`));
    expect(output).toMatch(/✔ Settling room states \[\d+(\.\d)?s\]\n/);
    expect(output).toMatch(/Imported 3000 new events \(0 already stored\) in 1 rooms; 0 lines skipped/);
    expect(code).toBe(0);
  }, 120_000);
});

/** `npm start` in a pseudo-terminal, its output collected as it comes; Ctrl-C through the terminal stops it. */
class Started {
  private output = '';
  private readonly exited: Promise<number>;
  private readonly child: ChildProcess;

  constructor(cwd: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('script', ['-qfec', 'stty cols 120 rows 40; npm start', '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code ?? 1)));
  }

  get screen(): string {
    return screen(this.output);
  }

  /** Waits until the screen matches, or the program exits, or the cap passes; returns the match. */
  async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    let exited = false;
    void this.exited.then(() => (exited = true));
    const deadline = Date.now() + START_CAP_MS;
    for (;;) {
      const match = pattern.exec(this.screen);
      if (match) return match;
      if (exited || Date.now() > deadline) throw new Error(`npm start ${exited ? 'exited' : 'did not print it in time'}; its screen:\n${this.screen}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Ctrl-C, as typed on the terminal; whether it ended by itself (else it is killed after a generous while). */
  async interrupt(): Promise<boolean> {
    this.child.stdin!.write('\u0003');
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.child.kill('SIGKILL');
    }, 60_000);
    await this.exited;
    clearTimeout(timer);
    return !killed;
  }
}

describe('npm start on a terminal, in a fresh copy of the project', () => {
  let copy: string;
  let env: NodeJS.ProcessEnv;
  let boltPort: number;

  beforeAll(async () => {
    copy = join(dir, 'project');
    // The files of the working tree (tracked or not, git's ignores applied), timestamps kept so that the copy's
    // node_modules (a link to ours) is not seen as older than package-lock.json; the Neo4j jars are linked too.
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: PROJECT_ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((file) => file.length > 0 && !/^(node_modules|\.neo4j)(\/|$)/.test(file));
    for (const file of files) {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      try {
        cpSync(join(PROJECT_ROOT, file), join(copy, file), { preserveTimestamps: true });
      } catch {
        // A file git still lists but someone deleted from the working tree.
      }
    }
    symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(copy, 'node_modules'));
    mkdirSync(join(copy, '.neo4j'));
    symlinkSync(join(PROJECT_ROOT, '.neo4j', 'lib'), join(copy, '.neo4j', 'lib'));
    let port: number, httpPort: number, guidePort: number, opsPort: number;
    [port, boltPort, httpPort, guidePort, opsPort] = (await freePorts(5)) as [number, number, number, number, number];
    env = { ...process.env, PORT: String(port), NEO4J_BOLT_PORT: String(boltPort), NEO4J_HTTP_PORT: String(httpPort), NEO4J_GUIDE_PORT: String(guidePort), OPS_PORT: String(opsPort) };
    for (const name of ['NEO4J_URI', 'NEO4J_USER', 'NEO4J_PASSWORD', 'NEO4J_DATABASE', 'SERVER_NAME', 'HOST', 'DEMO_ROOM_EVENTS', 'LOG_LEVEL']) delete env[name];
  }, 120_000);

  afterAll(() => {
    execFileSync(process.execPath, [join(copy, 'scripts', 'neo4j.mjs'), 'stop'], { cwd: copy, env, stdio: 'ignore' });
  }, 120_000);

  /** Runs the printed `Try:` command as a user would paste it, in the copy; returns its exit code and output. */
  async function tryLine(start: Started): Promise<{ code: number; output: string; roomId: string; latest: string }> {
    const [, command, roomId, latest] = await start.waitFor(/Try: (npm run request -- --room '([^']+)' --latest '([^']+)' .*)\n/);
    // A new shell: none of the variables npm start was given.
    const shell = { ...process.env };
    delete shell.PORT;
    const { code, output } = await onScreen(command!, { cwd: copy, env: shell });
    return { code, output, roomId: roomId!, latest: latest! };
  }

  it('imports the demo room, prints a Try: line that answers 200 with its events, and stops on Ctrl-C', async () => {
    const start = new Started(copy, env);
    try {
      const { code, output, roomId, latest } = await tryLine(start);
      expect(start.screen).not.toMatch(/Start-up failed|✖/);
      expect(start.screen).toMatch(/✔ Settling room states/);
      expect(start.screen).toMatch(new RegExp(`Try: npm run request -- .* --url http://127\\.0\\.0\\.1:${env.PORT}\n`));
      expect(readKeysFile(join(copy, '.data', 'demo-room.jsonl.keys.json')).room_id).toBe(roomId);
      expect(output).toMatch(/\nHTTP 200\n\{\n {2}"events": \[\n/);
      const answer = output.slice(output.indexOf('{\n  "events"'), output.lastIndexOf('}') + 1);
      const events = JSON.parse(answer).events as { event_id: string; depth: number }[];
      expect(events).toHaveLength(5);
      expect(events.map((event) => event.event_id)).not.toContain(latest);
      expect(code).toBe(0);
    } finally {
      expect(await start.interrupt()).toBe(true);
    }
    expect(start.screen).toMatch(/\d\d:\d\d:\d\d info  shutting down signal=SIGINT\nThe local Neo4j \(Browser http:\/\/\S+\) and its room guide keep running for the next start; stop them with: npm run neo4j:stop\n/);
  }, START_CAP_MS + 120_000);

  it('finishes a demo import that stopped before the room state was settled, and then serves the room', async () => {
    // What a crash between the importer's last batch and its settling leaves: the events, and no current state.
    const driver = neo4j.driver(`bolt://127.0.0.1:${boltPort}`);
    const roomId = readKeysFile(join(copy, '.data', 'demo-room.jsonl.keys.json')).room_id;
    try {
      const result = await driver.executeQuery('MATCH (:Room {room_id: $room_id})-[c:CURRENT_STATE]->() DELETE c RETURN count(c) AS deleted', { room_id: roomId });
      expect(result.records[0]!.get('deleted').toNumber()).toBe(1);
    } finally {
      await driver.close();
    }
    const start = new Started(copy, env);
    try {
      const { code, output } = await tryLine(start);
      expect(start.screen).toMatch(/The demo room's import did not finish \(2000 events stored, state not settled\): finishing it\.\n/);
      expect(start.screen).toMatch(/Imported 0 new events \(2000 already stored\) in 1 rooms/);
      expect(output).toMatch(/\nHTTP 200\n\{\n {2}"events": \[\n/);
      expect(code).toBe(0);
    } finally {
      expect(await start.interrupt()).toBe(true);
    }
  }, START_CAP_MS + 120_000);
});
