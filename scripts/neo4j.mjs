// Fetches and runs the real Neo4j Community 5.26 server for local development and tests.
// Plain Node, no npm dependencies: it can run before node_modules exists.
//
//   node scripts/neo4j.mjs start|stop|status [--home DIR]      (npm run neo4j:start|neo4j:stop|neo4j:status)
//
// The jars come from Maven Central through neo4j/pom.xml (mvn dependency:copy-dependencies) into .neo4j/lib, once.
// A home directory (.neo4j by default) holds conf/ (generated on every start), data/, logs/ and run/.
// The server is Neo4j's own org.neo4j.server.CommunityEntryPoint, started detached with the jars on the class path.
// Bolt listens on 127.0.0.1:7687 and HTTP + Neo4j Browser on 127.0.0.1:7474 (NEO4J_BOLT_PORT / NEO4J_HTTP_PORT
// override), with authentication disabled: it is a local development server reachable from this machine only.
// Beside it, browser/guide-server.mjs serves the room guide and Browser style on 127.0.0.1:7476 (NEO4J_GUIDE_PORT),
// which the Browser plays after connecting (browser.post_connect_cmd); it exits with the server.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const POM = join(ROOT, 'neo4j', 'pom.xml');
export const DEFAULT_HOME = join(ROOT, '.neo4j');
export const LIB_DIR = join(DEFAULT_HOME, 'lib');
export const DEFAULT_BOLT_PORT = 7687;
export const DEFAULT_HTTP_PORT = 7474;
export const DEFAULT_GUIDE_PORT = 7476;
const GUIDE_SERVER = join(ROOT, 'browser', 'guide-server.mjs');
// Browser fetches remote guides only from hosts in browser.remote_content_hostname_whitelist, compared by name.
const GUIDE_HOSTNAME = 'localhost';
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 60_000;
const STATE_FILE = 'neo4j-launcher.json'; // in run/, next to the neo4j.pid the server writes itself
const GUIDE_STATE_FILE = 'guide-server.json';
const FETCHED_MARKER = '.pom-sha256';
const MAIN_CLASS = 'org.neo4j.server.CommunityEntryPoint';

/** A failure we explain in one sentence; the CLI prints only the message. */
export class Neo4jLauncherError extends Error {
  constructor(message, logPath) {
    super(logPath ? `${message}\nLog: ${logPath}` : message);
    this.name = 'Neo4jLauncherError';
    this.logPath = logPath;
  }
}

const stderrLog = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const show = (path) => {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
};

// ---------------------------------------------------------------------------------------------------- Java and Maven

/** The java binary (JAVA_HOME first, then PATH) and its major version; throws when missing or older than 17. */
export function findJava() {
  const candidates = [];
  if (process.env.JAVA_HOME) candidates.push(join(process.env.JAVA_HOME, 'bin', process.platform === 'win32' ? 'java.exe' : 'java'));
  candidates.push('java');
  for (const java of candidates) {
    const result = spawnSync(java, ['-version'], { encoding: 'utf8' });
    if (result.error || result.status !== 0) continue;
    const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
    const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : 0;
    if (major >= 17) return { java, major };
    throw new Neo4jLauncherError(`Java 17 is needed: install a JDK 17 and put java on PATH (${java} is Java ${major || 'of unknown version'}).`);
  }
  throw new Neo4jLauncherError('Java 17 is needed: install a JDK 17 and put java on PATH.');
}

function pomDigest() {
  return createHash('sha256').update(readFileSync(POM)).digest('hex');
}

function jarsPresent(libDir) {
  const marker = join(libDir, FETCHED_MARKER);
  return existsSync(marker) && readFileSync(marker, 'utf8').trim() === pomDigest();
}

/**
 * Downloads the Neo4j server jars listed by neo4j/pom.xml into .neo4j/lib with Maven, unless they are there already
 * (a marker records which pom they came from, so editing the pom fetches again). Returns the lib directory.
 */
export async function fetchNeo4jJars({ libDir = LIB_DIR, log = stderrLog, force = false } = {}) {
  if (!force && jarsPresent(libDir)) return libDir;
  const mvn = process.platform === 'win32' ? 'mvn.cmd' : 'mvn';
  const probe = spawnSync(mvn, ['-v'], { encoding: 'utf8', shell: process.platform === 'win32' });
  if (probe.error || probe.status !== 0) {
    throw new Neo4jLauncherError('Maven is needed once to download Neo4j from Maven Central: install Maven 3 and put mvn on PATH.');
  }
  mkdirSync(dirname(libDir), { recursive: true });
  const staging = `${libDir}.download-${process.pid}`;
  const logPath = join(dirname(libDir), 'fetch.log');
  rmSync(staging, { recursive: true, force: true });
  log(`Downloading Neo4j Community 5.26 from Maven Central into ${show(libDir)} (once; about 140 MB)...`);
  const started = Date.now();
  const out = openSync(logPath, 'w');
  const code = await new Promise((resolveExit) => {
    const child = spawn(mvn, ['-B', '-q', '-Dstyle.color=never', '-f', POM, 'dependency:copy-dependencies',
      '-DincludeScope=runtime', `-DoutputDirectory=${staging}`], { cwd: ROOT, stdio: ['ignore', out, out], shell: process.platform === 'win32' });
    child.on('error', () => resolveExit(-1));
    child.on('exit', (status) => resolveExit(status ?? -1));
  });
  closeSync(out);
  if (code !== 0 || !existsSync(join(staging, 'neo4j-5.26.30.jar'))) {
    rmSync(staging, { recursive: true, force: true });
    throw new Neo4jLauncherError(`Downloading Neo4j with Maven failed (exit ${code}); is Maven Central reachable?`, logPath);
  }
  writeFileSync(join(staging, FETCHED_MARKER), `${pomDigest()}\n`);
  if (existsSync(libDir)) {
    const old = `${libDir}.old-${process.pid}`;
    try { renameSync(libDir, old); rmSync(old, { recursive: true, force: true }); } catch { /* another process swapped it */ }
  }
  try {
    renameSync(staging, libDir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!jarsPresent(libDir)) throw error; // otherwise a concurrent fetch finished first, which is as good
  }
  log(`Downloaded Neo4j in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  return libDir;
}

// ------------------------------------------------------------------------------------------------------ processes

/** True while pid names a live process (one we may not signal counts). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** True when pid is a Neo4j server of this home (checked through /proc where there is one). */
function isOurServer(pid, home) {
  if (!pid || !alive(pid)) return false;
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self/cmdline')) return true;
  try {
    const args = readFileSync(cmdline, 'utf8').split('\0');
    return args.includes(MAIN_CLASS) && args.includes(`--home-dir=${home}`);
  } catch {
    return false;
  }
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The server running in this home ({pid, boltPort, httpPort, ...}) or undefined. */
export function runningNeo4j({ home = DEFAULT_HOME } = {}) {
  home = resolve(home);
  const statePath = join(home, 'run', STATE_FILE);
  const state = readJson(statePath);
  if (state && isOurServer(state.pid, home)) return state;
  // Started by something else in this home (or the state file was lost): trust Neo4j's own pid file.
  const pid = Number(existsSync(join(home, 'run', 'neo4j.pid')) ? readFileSync(join(home, 'run', 'neo4j.pid'), 'utf8').trim() : 0);
  if (pid && isOurServer(pid, home)) return { pid, home, ...(state?.pid === pid ? state : {}) };
  if (state) rmSync(statePath, { force: true });
  return undefined;
}

// ------------------------------------------------------------------------------------------------------- probes

/** Opens a Bolt connection and completes the version handshake; resolves to the agreed version or undefined. */
export function boltHandshake(port, host = HOST, timeoutMs = 3000) {
  return new Promise((resolveVersion) => {
    const socket = net.connect({ host, port });
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (version) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolveVersion(version);
    };
    socket.setTimeout(timeoutMs, () => finish(undefined));
    socket.on('connect', () => {
      // Magic preamble, then four proposals: Bolt 5.8 down to 5.0, 4.4, and two empty slots.
      socket.write(Buffer.from([0x60, 0x60, 0xb0, 0x17, 0, 8, 8, 5, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0]));
    });
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4) finish(received.readUInt32BE(0) === 0 ? undefined : `${received[3]}.${received[2]}`);
    });
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
  });
}

/** GETs the Browser page; resolves to undefined when it is served, else to a short reason. */
export async function checkBrowser(httpPort, host = HOST) {
  const url = `http://${host}:${httpPort}/browser/`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body = await response.text();
    if (response.status !== 200) return `HTTP ${response.status}`;
    if (!/<html/i.test(body)) return 'the page is not HTML';
    return undefined;
  } catch (error) {
    return error.cause?.code ?? error.message;
  }
}

/** Resolves when the port can be bound on 127.0.0.1, rejects with a launcher error when it is taken. */
function assertPortFree(port, what, envName) {
  return new Promise((resolveFree, reject) => {
    const server = net.createServer();
    server.once('error', (error) => {
      const why = error.code === 'EADDRINUSE' ? 'is already in use' : `cannot be used (${error.code})`;
      reject(new Neo4jLauncherError(`Port ${port} on ${HOST} (${what}) ${why}: stop what listens there or pick another `
        + `port with ${envName} (or, if it is a Neo4j you want to use, set NEO4J_URI).`));
    });
    server.listen({ host: HOST, port, exclusive: true }, () => server.close(() => resolveFree()));
  });
}

function parsePort(value, fallback, name) {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Neo4jLauncherError(`${name} must be a port number (1-65535), not "${value}".`);
  return port;
}

function tail(path, fromByte, lines) {
  if (!existsSync(path)) return '';
  const size = statSync(path).size;
  const start = Math.max(fromByte, size - 64 * 1024);
  if (size <= start) return '';
  const fd = openSync(path, 'r');
  const buffer = Buffer.alloc(size - start);
  readSync(fd, buffer, 0, buffer.length, start);
  closeSync(fd);
  return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

const fileSize = (path) => (existsSync(path) ? statSync(path).size : 0);

// ------------------------------------------------------------------------------------------------- configuration

export function neo4jConf({ home, libDir, boltPort, httpPort, guidePort }) {
  const guide = `http://${GUIDE_HOSTNAME}:${guidePort}`;
  const p = (path) => path.replaceAll('\\', '/');
  return `# Generated by scripts/neo4j.mjs on every start: edits here are overwritten.
# Neo4j Community 5.26 for local development and tests, reachable from this machine only.
server.directories.data=${p(join(home, 'data'))}
server.directories.logs=${p(join(home, 'logs'))}
server.directories.run=${p(join(home, 'run'))}
server.directories.lib=${p(libDir)}
server.directories.plugins=${p(join(home, 'plugins'))}
server.directories.import=${p(join(home, 'import'))}
server.directories.dumps.root=${p(join(home, 'data', 'dumps'))}
server.directories.transaction.logs.root=${p(join(home, 'data', 'transactions'))}

server.default_listen_address=${HOST}
server.default_advertised_address=${HOST}
server.bolt.enabled=true
server.bolt.listen_address=${HOST}:${boltPort}
server.bolt.advertised_address=${HOST}:${boltPort}
server.http.enabled=true
server.http.listen_address=${HOST}:${httpPort}
server.http.advertised_address=${HOST}:${httpPort}
server.https.enabled=false

# Local development server: no authentication (it only listens on ${HOST}).
dbms.security.auth_enabled=false
dbms.usage_report.enabled=false
server.config.strict_validation.enabled=true

# Neo4j Browser: no product analytics (and no banner asking about them); after connecting, the room style and guide
# from browser/guide-server.mjs, in place of the welcome frames (Browser prefixes each command with a colon), and
# "connect result nodes" off, so a drawing holds the edges the query returned (not every AUTH_EVENT between them).
# Remote content (guides, styles) from localhost only.
client.allow_telemetry=false
browser.remote_content_hostname_whitelist=${GUIDE_HOSTNAME}
browser.post_connect_cmd=config autoComplete: false; clear; style ${guide}/style.json; play ${guide}/guide.html

# Modest memory: the heap settings are passed to the JVM as -Xms/-Xmx by scripts/neo4j.mjs.
server.memory.heap.initial_size=512m
server.memory.heap.max_size=1g
server.memory.pagecache.size=512m
db.tx_log.rotation.retention_policy=1 days

# Stop in about a second instead of ten: Bolt otherwise waits 5 s twice for netty and its thread pool.
internal.dbms.bolt.netty_server_shutdown_quiet_period=0
internal.dbms.bolt.netty_server_shutdown_timeout=1s
internal.server.bolt.thread_pool_shutdown_wait_time=1s
internal.server.bolt.connection_shutdown_wait_time=1s
`;
}

function jvmArguments(major) {
  return [
    '-Xms512m', '-Xmx1g', // server.memory.heap.* in neo4j.conf
    '-XX:+UseG1GC', '-XX:-OmitStackTraceInFastThrow', '-XX:+UnlockExperimentalVMOptions',
    '-XX:+TrustFinalNonStaticFields', '-XX:+DisableExplicitGC', '-XX:+ExitOnOutOfMemoryError',
    '-Djdk.nio.maxCachedBufferSize=1024', '-Dio.netty.tryReflectionSetAccessible=true',
    '-Djdk.tls.ephemeralDHKeySize=2048', '-Djdk.tls.rejectClientInitiatedRenegotiation=true',
    '-Dlog4j2.disable.jmx=true', '-Dfile.encoding=UTF-8',
    '--add-opens=java.base/java.nio=ALL-UNNAMED', '--add-opens=java.base/java.io=ALL-UNNAMED',
    '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
    ...(major >= 21 ? ['--enable-native-access=ALL-UNNAMED'] : []),
  ];
}

// ------------------------------------------------------------------------------------------------------ start/stop

/**
 * The Browser URL that connects at once: `dbms` names the server and `preselectAuthMethod=NO_AUTH` makes the
 * connect form submit itself with no credentials (Neo4j Browser 5 reads both from the URL).
 */
export function browserConnectUrl(httpPort, boltPort) {
  return `http://${HOST}:${httpPort}/browser/?dbms=bolt://${HOST}:${boltPort}&preselectAuthMethod=NO_AUTH`;
}

function describe({ home, boltPort, httpPort, guidePort }) {
  return {
    uri: `bolt://${HOST}:${boltPort}`,
    user: '', // empty: no authentication (dbms.security.auth_enabled=false)
    password: '',
    home,
    logPath: join(home, 'logs', 'neo4j.log'),
    boltPort,
    httpPort,
    browserUrl: browserConnectUrl(httpPort, boltPort),
    guidePort,
    guideUrl: guidePort ? `http://${GUIDE_HOSTNAME}:${guidePort}/guide.html` : undefined,
  };
}

/**
 * Makes sure a Neo4j server runs in `home` and answers Bolt: fetches the jars if needed, lays out the home, starts
 * the server if it is not running, and waits (up to 120 s) until it has logged "Started." and completes a Bolt
 * handshake, then starts the room guide server next to it. Returns {uri, user, password, home, logPath, boltPort,
 * httpPort, browserUrl, guidePort, guideUrl, pid, alreadyRunning}; user and password are empty because
 * authentication is off. Throws Neo4jLauncherError (one sentence + log path). The guide port is guidePort; else, for
 * the default home, NEO4J_GUIDE_PORT or 7476 when free; else any free port (the Browser learns it from neo4j.conf).
 * With ownerPid, a small watchdog process stops the server (and, with deleteHomeOnOwnerExit, deletes home) once that
 * process is gone, so a killed test run does not leave a server behind.
 */
export async function ensureNeo4j({
  home = DEFAULT_HOME,
  boltPort = parsePort(process.env.NEO4J_BOLT_PORT, DEFAULT_BOLT_PORT, 'NEO4J_BOLT_PORT'),
  httpPort = parsePort(process.env.NEO4J_HTTP_PORT, DEFAULT_HTTP_PORT, 'NEO4J_HTTP_PORT'),
  guidePort,
  log = stderrLog,
  libDir = LIB_DIR,
  ownerPid,
  deleteHomeOnOwnerExit = false,
  timeoutMs = START_TIMEOUT_MS,
} = {}) {
  home = resolve(home);
  const running = runningNeo4j({ home });
  if (running) {
    const info = describe({ home, boltPort: running.boltPort ?? boltPort, httpPort: running.httpPort ?? httpPort, guidePort: running.guidePort });
    if (!(await boltHandshake(info.boltPort))) {
      throw new Neo4jLauncherError(`Neo4j is running in ${show(home)} (pid ${running.pid}) but does not answer Bolt on port ${info.boltPort}; `
        + 'wait for it to finish starting or stop it with `npm run neo4j:stop`.', info.logPath);
    }
    log(`Neo4j is already running (pid ${running.pid}): ${info.uri}`);
    if (info.guidePort) await ensureGuideServer({ home, guidePort: info.guidePort, httpPort: info.httpPort, neo4jPid: running.pid, log });
    return { ...info, pid: running.pid, alreadyRunning: true };
  }

  if (boltPort === httpPort) throw new Neo4jLauncherError(`The Bolt and HTTP ports must differ (both are ${boltPort}).`);
  const { java, major } = findJava();
  await fetchNeo4jJars({ libDir, log });
  await assertPortFree(boltPort, 'Bolt', 'NEO4J_BOLT_PORT');
  await assertPortFree(httpPort, 'HTTP', 'NEO4J_HTTP_PORT');
  guidePort = await chooseGuidePort(guidePort, [boltPort, httpPort], home === resolve(DEFAULT_HOME));

  for (const dir of ['conf', 'data', 'logs', 'run', 'plugins', 'import']) mkdirSync(join(home, dir), { recursive: true });
  writeFileSync(join(home, 'conf', 'neo4j.conf'), neo4jConf({ home, libDir, boltPort, httpPort, guidePort }));
  const info = describe({ home, boltPort, httpPort, guidePort });
  const consolePath = join(home, 'logs', 'console.log');
  const logOffset = fileSize(info.logPath);
  const consoleOffset = fileSize(consolePath);

  log(`Starting Neo4j 5.26 (home ${show(home)}, Bolt ${HOST}:${boltPort}, HTTP ${HOST}:${httpPort})...`);
  const started = Date.now();
  const out = openSync(consolePath, 'a');
  const env = { ...process.env };
  delete env.NEO4J_HOME;
  delete env.NEO4J_CONF;
  const child = spawn(java, [...jvmArguments(major), '-cp', join(libDir, '*'), MAIN_CLASS,
    `--home-dir=${home}`, `--config-dir=${join(home, 'conf')}`], { cwd: home, env, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  let exitCode;
  child.on('exit', (code, signal) => { exitCode = code ?? signal ?? 'unknown'; });
  child.on('error', () => { exitCode = 'spawn error'; });
  child.unref();
  writeFileSync(join(home, 'run', STATE_FILE), `${JSON.stringify({ pid: child.pid, home, boltPort, httpPort, guidePort, startedAt: new Date().toISOString() }, null, 2)}\n`);

  const failure = (sentence) => {
    const logTail = tail(info.logPath, logOffset, 15);
    const consoleTail = tail(consolePath, consoleOffset, 15);
    const lines = [logTail && `--- last lines of ${show(info.logPath)}\n${logTail}`, consoleTail && `--- last lines of ${show(consolePath)}\n${consoleTail}`].filter(Boolean).join('\n');
    return new Neo4jLauncherError(`${sentence}${lines ? `\n${lines}` : ''}`, logTail || !consoleTail ? info.logPath : consolePath);
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await sleep(500);
    if (exitCode !== undefined) {
      rmSync(join(home, 'run', STATE_FILE), { force: true });
      throw failure(`Neo4j failed to start (the server exited with ${exitCode}).`);
    }
    if (tail(info.logPath, logOffset, 1000).includes('Started.') && (await boltHandshake(boltPort))) break;
    if (Date.now() > deadline) {
      await stopProcess(child.pid, 15_000);
      rmSync(join(home, 'run', STATE_FILE), { force: true });
      throw failure(`Neo4j did not answer Bolt on ${HOST}:${boltPort} within ${Math.round(timeoutMs / 1000)} s, so it was stopped.`);
    }
  }
  log(`Neo4j started in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${child.pid}).`);
  if (ownerPid) startWatchdog({ ownerPid, pid: child.pid, home, deleteHome: deleteHomeOnOwnerExit });
  await ensureGuideServer({ home, guidePort, httpPort, neo4jPid: child.pid, log });
  return { ...info, pid: child.pid, alreadyRunning: false };
}

// ------------------------------------------------------------------------------------------------- the room guide

function portFree(port) {
  return assertPortFree(port, '', '').then(() => true, () => false);
}

async function chooseGuidePort(requested, taken, defaultHome) {
  const explicit = requested ?? (defaultHome && process.env.NEO4J_GUIDE_PORT ? parsePort(process.env.NEO4J_GUIDE_PORT, DEFAULT_GUIDE_PORT, 'NEO4J_GUIDE_PORT') : undefined);
  if (explicit !== undefined) {
    if (taken.includes(explicit)) throw new Neo4jLauncherError(`The guide port must differ from the Bolt and HTTP ports (${explicit}).`);
    await assertPortFree(explicit, 'room guide', 'NEO4J_GUIDE_PORT');
    return explicit;
  }
  // 7476 is for the development server, and a convenience rather than a promise; throw-away servers (tests) and a
  // taken 7476 get any free port, which the Browser learns from neo4j.conf.
  if (defaultHome && !taken.includes(DEFAULT_GUIDE_PORT) && (await portFree(DEFAULT_GUIDE_PORT))) return DEFAULT_GUIDE_PORT;
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: HOST, port: 0 }, () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

function guideServerRunning(home) {
  const state = readJson(join(home, 'run', GUIDE_STATE_FILE));
  if (!state?.pid || !alive(state.pid)) return undefined;
  if (!existsSync('/proc/self/cmdline')) return state;
  try {
    return readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').split('\0').includes(GUIDE_SERVER) ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves to true when the guide server answers on its port. */
async function guideAnswers(guidePort) {
  try {
    const response = await fetch(`http://${HOST}:${guidePort}/style.json`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts browser/guide-server.mjs detached (unless it runs already), serving the guide for the Neo4j on httpPort
 * and exiting with the Neo4j process; its output goes to logs/guide.log. A guide that does not come up is logged,
 * not fatal: the database works without it.
 */
async function ensureGuideServer({ home, guidePort, httpPort, neo4jPid, log }) {
  if (guideServerRunning(home) && (await guideAnswers(guidePort))) return;
  const logPath = join(home, 'logs', 'guide.log');
  const out = openSync(logPath, 'a');
  const child = spawn(process.execPath, [GUIDE_SERVER, String(guidePort), String(httpPort), String(neo4jPid)],
    { cwd: ROOT, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  writeFileSync(join(home, 'run', GUIDE_STATE_FILE), `${JSON.stringify({ pid: child.pid, port: guidePort }, null, 2)}\n`);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await guideAnswers(guidePort)) return;
    await sleep(200);
  }
  log(`The room guide did not start on ${HOST}:${guidePort}; the Browser will say it cannot fetch it. Log: ${show(logPath)}`);
}

async function stopGuideServer(home) {
  const state = guideServerRunning(home);
  if (state) await stopProcess(state.pid, 5000);
  rmSync(join(home, 'run', GUIDE_STATE_FILE), { force: true });
}

async function stopProcess(pid, timeoutMs) {
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      await sleep(500);
      return;
    }
    await sleep(200);
  }
}

/** Stops the server of this home (SIGTERM, then SIGKILL after 60 s). Resolves to false when none was running. */
export async function stopNeo4j({ home = DEFAULT_HOME, log = stderrLog } = {}) {
  home = resolve(home);
  const running = runningNeo4j({ home });
  if (!running) {
    log(`Neo4j is not running (home ${show(home)}).`);
    return false;
  }
  const started = Date.now();
  await stopProcess(running.pid, STOP_TIMEOUT_MS);
  await stopGuideServer(home);
  rmSync(join(home, 'run', STATE_FILE), { force: true });
  log(`Neo4j stopped (pid ${running.pid}, ${((Date.now() - started) / 1000).toFixed(1)} s).`);
  return true;
}

function startWatchdog({ ownerPid, pid, home, deleteHome }) {
  const args = [fileURLToPath(import.meta.url), 'watch', String(ownerPid), String(pid), home, deleteHome ? 'delete-home' : 'keep-home'];
  const watchdog = spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
  watchdog.unref();
}

/**
 * Neo4j's bulk importer (`neo4j-admin database import full`, org.neo4j.cli.AdminTool from the same jars) into this
 * home's database `neo4j`, replacing what it holds. The server must be stopped, and must have started once in this
 * home (the tool reads its conf/neo4j.conf). `nodes` and `relationships` are neo4j-admin's arguments: file paths, and
 * {type, file} pairs; `arrayDelimiter` separates list elements and labels (e.g. 'U+001F'). Its output goes to
 * logs/admin-import.log; resolves to the seconds it took, or throws with the log's last lines.
 */
export async function adminImport({
  home = DEFAULT_HOME, libDir = LIB_DIR, nodes, relationships, multiline = false, arrayDelimiter = ';', log = stderrLog,
}) {
  home = resolve(home);
  if (runningNeo4j({ home })) throw new Neo4jLauncherError(`Neo4j is running in ${show(home)}: stop it before neo4j-admin database import.`);
  if (!existsSync(join(home, 'conf', 'neo4j.conf'))) {
    throw new Neo4jLauncherError(`${show(home)} has no conf/neo4j.conf: start Neo4j there once before importing into it.`);
  }
  const { java } = findJava();
  await fetchNeo4jJars({ libDir, log });
  mkdirSync(join(home, 'logs'), { recursive: true });
  const logPath = join(home, 'logs', 'admin-import.log');
  const args = ['-Xmx1g', '-XX:+UseG1GC', '-Dfile.encoding=UTF-8', '-cp', join(libDir, '*'), 'org.neo4j.cli.AdminTool',
    // The database first: --nodes and --relationships take every file that follows them.
    // Any bad entry (a relationship to a node not in the files, a duplicate node) fails the import.
    'database', 'import', 'full', 'neo4j', '--overwrite-destination', '--bad-tolerance=0', `--array-delimiter=${arrayDelimiter}`, `--report-file=${join(home, 'logs', 'admin-import.report')}`,
    ...(multiline ? ['--multiline-fields=true'] : []),
    ...nodes.map((file) => `--nodes=${file}`),
    ...relationships.map(({ type, file }) => `--relationships=${type}=${file}`)];
  const env = { ...process.env, NEO4J_HOME: home, NEO4J_CONF: join(home, 'conf') };
  log(`Running neo4j-admin database import full (home ${show(home)})...`);
  const started = Date.now();
  const out = openSync(logPath, 'w');
  const code = await new Promise((resolveExit) => {
    const child = spawn(java, args, { cwd: home, env, stdio: ['ignore', out, out] });
    child.on('error', () => resolveExit('spawn error'));
    child.on('exit', (status, signal) => resolveExit(status ?? signal ?? 'unknown'));
  });
  closeSync(out);
  if (code !== 0) throw new Neo4jLauncherError(`neo4j-admin database import failed (exit ${code}):\n${tail(logPath, 0, 15)}`, logPath);
  const seconds = (Date.now() - started) / 1000;
  log(`neo4j-admin database import done in ${seconds.toFixed(1)} s.`);
  return seconds;
}

/** The watchdog: once ownerPid is gone, stops the server (pid) and optionally deletes its home; exits with the server. */
async function watch(ownerPid, pid, home, deleteHome) {
  while (isOurServer(pid, home)) {
    if (!alive(ownerPid)) {
      await stopProcess(pid, 30_000);
      if (deleteHome) rmSync(home, { recursive: true, force: true });
      return;
    }
    await sleep(1000);
  }
}

// ------------------------------------------------------------------------------------------------------------ CLI

async function cli(argv) {
  const [command, ...rest] = argv;
  const homeFlag = rest.indexOf('--home');
  const home = homeFlag >= 0 && rest[homeFlag + 1] ? resolve(rest[homeFlag + 1]) : DEFAULT_HOME;
  const say = (line) => process.stdout.write(`${line}\n`);
  switch (command) {
    case 'start': {
      if (process.env.NEO4J_URI) {
        say(`NEO4J_URI is set (${process.env.NEO4J_URI}), so that server is used; no local Neo4j is started.`);
        return 0;
      }
      const info = await ensureNeo4j({ home, log: say });
      const browserProblem = await checkBrowser(info.httpPort);
      say(`Bolt:    ${info.uri} (authentication disabled; NEO4J_URI=${info.uri} with no user)`);
      say(browserProblem ? `Browser: not served at ${info.browserUrl} (${browserProblem})` : `Browser: ${info.browserUrl}`);
      if (!browserProblem) say('         (connects with no authentication, applies the room style and opens the room guide)');
      if (info.guideUrl) say(`Guide:   ${info.guideUrl} (:play it in the Browser)`);
      say(`Logs:    ${show(info.logPath)}`);
      return 0;
    }
    case 'stop':
      await stopNeo4j({ home, log: say });
      return 0;
    case 'status': {
      if (process.env.NEO4J_URI) say(`NEO4J_URI is set (${process.env.NEO4J_URI}): the application and tests use that server.`);
      const running = runningNeo4j({ home });
      if (!running) {
        say(`Neo4j is not running (home ${show(home)}); start it with \`npm run neo4j:start\`.`);
        return 0;
      }
      const info = describe({ home, boltPort: running.boltPort ?? DEFAULT_BOLT_PORT, httpPort: running.httpPort ?? DEFAULT_HTTP_PORT, guidePort: running.guidePort });
      const bolt = await boltHandshake(info.boltPort);
      const browserProblem = await checkBrowser(info.httpPort);
      say(`Neo4j is running (pid ${running.pid}, home ${show(home)}${running.startedAt ? `, since ${running.startedAt}` : ''}).`);
      say(`Bolt:    ${info.uri} ${bolt ? `(answers, Bolt ${bolt})` : '(does not answer yet)'}`);
      say(`Browser: ${info.browserUrl} ${browserProblem ? `(not served: ${browserProblem})` : '(served)'}`);
      if (info.guideUrl) say(`Guide:   ${info.guideUrl} ${(await guideAnswers(info.guidePort)) ? '(served)' : '(not served: `npm run neo4j:start` starts it again)'}`);
      say(`Logs:    ${show(info.logPath)}`);
      return 0;
    }
    case 'fetch':
      await fetchNeo4jJars({ log: say });
      say(`Neo4j jars are in ${show(LIB_DIR)}.`);
      return 0;
    case 'watch': // internal: the watchdog started by ensureNeo4j({ownerPid})
      await watch(Number(rest[0]), Number(rest[1]), rest[2], rest[3] === 'delete-home');
      return 0;
    default:
      process.stderr.write('Usage: node scripts/neo4j.mjs start|stop|status|fetch [--home DIR]\n');
      return 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (error) => {
      process.stderr.write(`${error instanceof Neo4jLauncherError ? error.message : `neo4j.mjs: ${error.message}`}\n`);
      process.exitCode = 1;
    },
  );
}
