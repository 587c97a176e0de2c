/**
 * An import killed with SIGKILL part-way and then run again must leave exactly the graph a clean import of the same
 * file leaves: the same nodes with the same labels and properties (states included), the same relationships,
 * nothing duplicated, nothing lost. The built import command (`node dist/src/cli/import.js FILE`) is run as a
 * real process against the test Neo4j, killed once some batches are committed, and run again; its room's
 * fingerprint is then compared with that of a clean import of the file (made first, then the room deleted).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteRoom } from '../../src/fuzz/graph-fingerprint';
import { writeRoom } from '../../src/generator/write-room';
import { PROJECT_ROOT } from '../../src/paths';
import { loadCypher } from '../../src/store/cypher-files';
import { plain, readOnce, type Graph } from '../../src/store/neo4j';
import { buildDist } from '../helpers/build';
import { openTestGraph } from '../helpers/graph';
import { testNeo4j } from '../helpers/neo4j';
import { census, difference, roomFingerprint } from '../helpers/room-fingerprint';

const IMPORT = join(PROJECT_ROOT, 'dist', 'src', 'cli', 'import.js');
const QUERIES = loadCypher(['ops/room-event-count']);
// Ten of the importer's 2,000-event batches, with the generator's state conflicts, so a kill lands after some
// batches are committed and before the last one.
const EVENTS = 20_000;

let graph: Graph;
let dir: string;
let file: string;
let roomId: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const { uri, user, password, database } = testNeo4j();
  env = { ...process.env, NEO4J_URI: uri, ...(user ? { NEO4J_USER: user, NEO4J_PASSWORD: password } : {}), ...(database ? { NEO4J_DATABASE: database } : {}) };
  graph = await openTestGraph();
  dir = mkdtempSync(join(tmpdir(), 'maxtryx-import-crash-'));
  file = join(dir, 'room.jsonl');
  const keysPath = await writeRoom({ events: EVENTS, roomVersion: '10', seed: 'ops-import-crash', servers: 4, conflicts: true }, file);
  roomId = (JSON.parse(readFileSync(keysPath, 'utf8')) as { room_id: string }).room_id;
  buildDist();
}, 180_000);

afterAll(async () => {
  await graph?.driver.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function storedEvents(): Promise<number> {
  const [row] = await readOnce<{ events: unknown }>(graph, QUERIES['ops/room-event-count'], { room_id: roomId });
  return plain(row!.events) as number;
}

/** Runs the import command to its end. */
function importToEnd(): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [IMPORT, file], { cwd: PROJECT_ROOT, env, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

/** Starts the import command and SIGKILLs it once `afterEvents` of the room's events are committed. */
async function importKilled(afterEvents: number): Promise<{ signal: NodeJS.Signals | null; code: number | null }> {
  const child = spawn(process.execPath, [IMPORT, file], { cwd: PROJECT_ROOT, env, stdio: 'ignore' });
  const exited = new Promise<{ signal: NodeJS.Signals | null; code: number | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let running = true;
  void exited.then(() => (running = false));
  while (running && (await storedEvents()) < afterEvents) await new Promise((resolve) => setTimeout(resolve, 50));
  child.kill('SIGKILL');
  return exited;
}

describe('an import killed with SIGKILL and run again', () => {
  let cleanImport: string[];

  beforeAll(async () => {
    expect(await storedEvents()).toBe(0);
    const clean = await importToEnd();
    expect(clean.code).toBe(0);
    expect(clean.stderr).toContain(`Imported ${EVENTS} new events (0 already stored) in 1 rooms; 0 lines skipped`);
    cleanImport = await roomFingerprint(graph, roomId);
    const stored = Object.entries(census(cleanImport)).filter(([key]) => /^N (.*:)?Event(:|$)/.test(key) && !key.includes('Placeholder'));
    expect(stored.reduce((sum, [, count]) => sum + count, 0)).toBe(EVENTS);
    process.stderr.write(`import crash test: a clean import gives ${JSON.stringify(census(cleanImport))}\n`);
  }, 300_000);

  beforeEach(async () => {
    await deleteRoom(graph, roomId);
    expect(await roomFingerprint(graph, roomId)).toEqual([]);
  });

  // Early (2 of the 10 batches committed) and late (7 committed; the room's states are long by then).
  it.each([4_000, 14_000])('leaves the same graph as a clean import of the same file (killed at %d events)', async (killAfter) => {
    const killed = await importKilled(killAfter);
    expect(killed).toEqual({ code: null, signal: 'SIGKILL' });
    const atKill = await storedEvents();
    expect(atKill).toBeGreaterThanOrEqual(killAfter);
    expect(atKill).toBeLessThan(EVENTS);

    const resumed = await importToEnd();
    expect(resumed.code).toBe(0);
    // Every line once: what the killed run committed is found stored, the rest is stored now.
    expect(resumed.stderr).toContain(`Imported ${EVENTS - atKill} new events (${atKill} already stored) in 1 rooms; 0 lines skipped`);
    const afterCrash = await roomFingerprint(graph, roomId);

    process.stderr.write(
      `import crash test: killed at ${atKill}/${EVENTS} events committed; ${afterCrash.length} nodes and relationships after the ` +
        `crash and the second run, ${cleanImport.length} after a clean import\n`,
    );
    expect(census(afterCrash)).toEqual(census(cleanImport));
    expect({ onlyAfterCrash: difference(afterCrash, cleanImport).slice(0, 20), onlyInClean: difference(cleanImport, afterCrash).slice(0, 20) }).toEqual({
      onlyAfterCrash: [],
      onlyInClean: [],
    });
    expect(afterCrash).toEqual(cleanImport);
  }, 300_000);
});
