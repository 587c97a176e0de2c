/**
 * The browser tests' Neo4j: always the project's own server (scripts/neo4j.mjs), configured as `npm run
 * neo4j:start` configures it, in a throw-away home on free ports, with its room guide server. Chromium is checked
 * (and installed when missing) first, so a machine without it fails in seconds with a message saying what to do.
 * Passes on TEST_NEO4J_URI (as test/helpers/neo4j.ts expects) and TEST_BROWSER_URL, TEST_GUIDE_URL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePorts } from '../helpers/free-ports';
import { ensureChromium, quiet } from './chromium';

interface Neo4jScript {
  ensureNeo4j(options: {
    home: string; boltPort: number; httpPort: number; guidePort: number; log: (line: string) => void;
    ownerPid?: number; deleteHomeOnOwnerExit?: boolean;
  }): Promise<{ uri: string; browserUrl: string; guideUrl: string }>;
  stopNeo4j(options: { home: string; log?: (line: string) => void }): Promise<boolean>;
  Neo4jLauncherError: new (...args: unknown[]) => Error;
}

const ROOT = resolve(__dirname, '..', '..');
const STOP_KEY = '__browserTestNeo4jStop';
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;
const say = (line: string) => process.stderr.write(`[browser test] ${line}\n`);

export default async function globalSetup(): Promise<void> {
  say(`Chromium: ${ensureChromium(say)}`);
  const script = (await importModule(pathToFileURL(join(ROOT, 'scripts', 'neo4j.mjs')).href)) as Neo4jScript;
  const home = await mkdtemp(join(tmpdir(), 'maxtryx-browser-neo4j-'));
  const [boltPort, httpPort, guidePort] = await freePorts(3);
  try {
    const server = await script.ensureNeo4j({
      home, boltPort: boltPort!, httpPort: httpPort!, guidePort: guidePort!, log: say, ownerPid: process.pid, deleteHomeOnOwnerExit: true,
    });
    say(`using the project's own Neo4j at ${server.uri}, Browser ${server.browserUrl}, guide ${server.guideUrl}`);
    Object.assign(process.env, {
      TEST_NEO4J_URI: server.uri, TEST_NEO4J_USER: '', TEST_NEO4J_PASSWORD: '',
      TEST_BROWSER_URL: server.browserUrl, TEST_GUIDE_URL: server.guideUrl,
    });
    delete process.env.TEST_NEO4J_DATABASE;
  } catch (error) {
    await script.stopNeo4j({ home, log: () => {} }).catch(() => {});
    await rm(home, { recursive: true, force: true });
    if (error instanceof script.Neo4jLauncherError) throw quiet(error.message);
    throw error;
  }
  (globalThis as Record<string, unknown>)[STOP_KEY] = async () => {
    await script.stopNeo4j({ home, log: say });
    await rm(home, { recursive: true, force: true });
  };
}

export async function stopBrowserTestNeo4j(): Promise<void> {
  const store = globalThis as Record<string, unknown>;
  const stop = store[STOP_KEY] as (() => Promise<void>) | undefined;
  delete store[STOP_KEY];
  await stop?.();
}
