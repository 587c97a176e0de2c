/**
 * Chooses the one Neo4j every test of this jest run uses, and says which on stderr:
 *   1. NEO4J_URI (with NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE) when set;
 *   2. else a testcontainers Neo4j (neo4j:5.26-community) when a container runtime answers;
 *   3. else the project's own Neo4j from scripts/neo4j.mjs, in a throw-away home under the OS temp directory on free
 *      ports (sharing the downloaded jars in .neo4j/lib), stopped and deleted by global-teardown.ts.
 * TEST_NEO4J=local skips the container attempt; TEST_NEO4J=container makes a missing container runtime an error.
 * The choice reaches the tests as TEST_NEO4J_URI/_USER/_PASSWORD/_DATABASE (see test/helpers/neo4j.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePorts } from './free-ports';

export interface ChosenNeo4j {
  readonly uri: string;
  readonly user: string;
  readonly password: string;
  readonly database?: string;
}

/** What global-teardown.ts must undo; kept on globalThis, which jest shares between setup and teardown. */
export interface TestNeo4jHandle {
  readonly kind: 'env' | 'container' | 'local';
  stop(): Promise<void>;
}

interface Neo4jScript {
  ensureNeo4j(options: {
    home: string; boltPort: number; httpPort: number; log: (line: string) => void;
    ownerPid?: number; deleteHomeOnOwnerExit?: boolean;
  }): Promise<{ uri: string; user: string; password: string; home: string; logPath: string }>;
  stopNeo4j(options: { home: string; log?: (line: string) => void }): Promise<boolean>;
  Neo4jLauncherError: new (...args: unknown[]) => Error;
}

const ROOT = resolve(__dirname, '..', '..');
const CONTAINER_IMAGE = 'neo4j:5.26-community';
const HANDLE_KEY = '__testNeo4jHandle';

// A real dynamic import: with module commonjs, TypeScript would turn import() into require(), which cannot load .mjs.
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

const say = (line: string) => process.stderr.write(`[test neo4j] ${line}\n`);

export default async function globalSetup(): Promise<void> {
  const { chosen, handle } = await choose();
  process.env.TEST_NEO4J_URI = chosen.uri;
  process.env.TEST_NEO4J_USER = chosen.user;
  process.env.TEST_NEO4J_PASSWORD = chosen.password;
  if (chosen.database) process.env.TEST_NEO4J_DATABASE = chosen.database;
  else delete process.env.TEST_NEO4J_DATABASE;
  (globalThis as Record<string, unknown>)[HANDLE_KEY] = handle;
}

export function takeHandle(): TestNeo4jHandle | undefined {
  const store = globalThis as Record<string, unknown>;
  const handle = store[HANDLE_KEY] as TestNeo4jHandle | undefined;
  delete store[HANDLE_KEY];
  return handle;
}

async function choose(): Promise<{ chosen: ChosenNeo4j; handle: TestNeo4jHandle }> {
  const uri = process.env.NEO4J_URI;
  if (uri) {
    const database = process.env.NEO4J_DATABASE || undefined;
    say(`using NEO4J_URI ${uri}${database ? ` (database ${database})` : ''}`);
    return {
      chosen: { uri, user: process.env.NEO4J_USER ?? '', password: process.env.NEO4J_PASSWORD ?? '', database },
      handle: { kind: 'env', stop: async () => {} },
    };
  }
  const mode = process.env.TEST_NEO4J ?? '';
  if (mode !== 'local') {
    const container = await tryContainer(mode === 'container');
    if (container) return container;
  }
  return startLocal();
}

/** A testcontainers Neo4j, or undefined (after one line saying why) when there is no working container runtime. */
async function tryContainer(required: boolean): Promise<{ chosen: ChosenNeo4j; handle: TestNeo4jHandle } | undefined> {
  const skip = (why: string) => {
    if (required) throw quiet(`TEST_NEO4J=container, but ${why}.`);
    say(`no container Neo4j (${why}); using the project's own Neo4j`);
    return undefined;
  };
  let testcontainers: typeof import('testcontainers');
  let neo4jModule: typeof import('@testcontainers/neo4j');
  try {
    testcontainers = await import('testcontainers');
    neo4jModule = await import('@testcontainers/neo4j');
  } catch (error) {
    // testcontainers 12 needs Node 22 (its undici uses zstd); on Node 20 it fails while loading.
    return skip(`testcontainers does not load on Node ${process.versions.node}: ${firstLine(error)}`);
  }
  try {
    await testcontainers.getContainerRuntimeClient();
  } catch (error) {
    return skip(firstLine(error));
  }
  say(`starting a container Neo4j (${CONTAINER_IMAGE}) with testcontainers...`);
  try {
    const container = await new neo4jModule.Neo4jContainer(CONTAINER_IMAGE).start();
    say(`using the container Neo4j at ${container.getBoltUri()}`);
    return {
      chosen: { uri: container.getBoltUri(), user: container.getUsername(), password: container.getPassword() },
      handle: { kind: 'container', stop: async () => { await container.stop(); } },
    };
  } catch (error) {
    return skip(`the container did not start: ${firstLine(error)}`);
  }
}

async function startLocal(): Promise<{ chosen: ChosenNeo4j; handle: TestNeo4jHandle }> {
  const script = (await importModule(pathToFileURL(join(ROOT, 'scripts', 'neo4j.mjs')).href)) as Neo4jScript;
  const home = await mkdtemp(join(tmpdir(), 'maxtryx-test-neo4j-'));
  const [boltPort, httpPort] = await freePorts(2);
  try {
    const server = await script.ensureNeo4j({
      home, boltPort: boltPort!, httpPort: httpPort!, log: say, ownerPid: process.pid, deleteHomeOnOwnerExit: true,
    });
    say(`using the project's own Neo4j at ${server.uri} (throw-away home ${home})`);
    return {
      chosen: { uri: server.uri, user: server.user, password: server.password },
      handle: {
        kind: 'local',
        stop: async () => {
          await script.stopNeo4j({ home, log: say });
          await rm(home, { recursive: true, force: true });
        },
      },
    };
  } catch (error) {
    await script.stopNeo4j({ home, log: () => {} }).catch(() => {});
    await rm(home, { recursive: true, force: true });
    if (error instanceof script.Neo4jLauncherError) throw quiet(error.message);
    throw error;
  }
}


function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}

/** An error whose message is the whole story: jest prints no stack trace of ours for it. */
function quiet(message: string): Error {
  const error = new Error(message);
  error.stack = message;
  return error;
}
