/**
 * docker-compose.yml and the Dockerfile, read as data and checked against what the service really reads
 * (src/config.ts): the variables it sets exist and load, the ports and the Bolt address line up, the healthchecks ask
 * endpoints the app serves, the data lives in named volumes, and the image is multi-stage and not run as root.
 * There is no container engine here, so this is the check the files get short of building them.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config';
import { SERVICE_NODE_OPTIONS } from '../../src/service/node-options';

const ROOT = join(__dirname, '..', '..');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  command?: string[];
  healthcheck?: { test: string[]; interval: string; timeout: string; retries: number };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
}

interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const COMPOSE_TEXT = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

/**
 * Compose's interpolation (compose-spec "Interpolation"): `${NAME:-default}` is NAME when set and not empty, else the
 * default; `${NAME}` is NAME or empty; `$$` is a `$`. Anything else with a `$` is refused, as compose would.
 */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$/g, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    if (name === undefined) throw new Error(`a $ compose would not read: ${text.slice(text.indexOf(match), text.indexOf(match) + 40)}`);
    return env[name] || (fallback ?? '');
  });
}

/** docker-compose.yml as compose reads it with these variables in the environment. */
const loadCompose = (env: Record<string, string> = {}) => parse(interpolate(COMPOSE_TEXT, env)) as Compose;
const compose = loadCompose();
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const neo4j = compose.services.neo4j!;
const service = compose.services.service!;
const guide = compose.services.guide!;

/**
 * The neo4j.conf scripts/neo4j.mjs writes for the development server (guide on 7476), read in a node process of its
 * own: jest's module sandbox cannot import ESM.
 */
function localNeo4jConf(guidePort = 7476): string {
  const source = `import(${JSON.stringify(pathToFileURL(join(ROOT, 'scripts', 'neo4j.mjs')).href)}).then((m) => process.stdout.write(`
    + `m.neo4jConf({ home: "/home", libDir: "/lib", boltPort: 7687, httpPort: 7474, guidePort: ${guidePort} })))`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return run.stdout;
}

/** A neo4j.conf setting as the neo4j image's environment names it: `browser.post_connect_cmd` -> NEO4J_browser_post__connect__cmd. */
const imageVariable = (setting: string) => `NEO4J_${setting.replaceAll('_', '__').replaceAll('.', '_')}`;

/** "127.0.0.1:8008:8008" -> {host: "127.0.0.1", published: 8008, target: 8008}. */
function port(mapping: string) {
  const [host, published, target] = mapping.split(':');
  return { host, published: Number(published), target: Number(target) };
}

describe('docker-compose.yml', () => {
  it('has exactly the three services and the named volumes they use', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['guide', 'neo4j', 'service']);
    expect(Object.keys(compose.volumes).sort()).toEqual(['neo4j-data', 'neo4j-logs', 'service-data']);
  });

  it('runs Neo4j 5.26 Community with authentication off, its data in a volume, Bolt and the Browser on loopback', () => {
    expect(neo4j.image).toBe('neo4j:5.26-community');
    expect(neo4j.environment?.NEO4J_AUTH).toBe('none');
    expect(neo4j.ports!.map(port)).toEqual([
      { host: '127.0.0.1', published: 7474, target: 7474 },
      { host: '127.0.0.1', published: 7687, target: 7687 },
    ]);
    expect(neo4j.volumes).toEqual(['neo4j-data:/data', 'neo4j-logs:/logs']);
    expect(neo4j.healthcheck?.test).toEqual(['CMD-SHELL', 'wget --quiet --spider http://localhost:7474/ || exit 1']);
  });

  it("gives Neo4j the local server's Browser and telemetry settings, word for word", () => {
    const settings = localNeo4jConf().split('\n')
      .filter((line) => /^(browser|client)\./.test(line) || line.startsWith('dbms.usage_report'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
    expect(settings.map(([name]) => name).sort()).toEqual([
      'browser.post_connect_cmd', 'browser.remote_content_hostname_whitelist', 'client.allow_telemetry', 'dbms.usage_report.enabled',
    ]);
    for (const [name, value] of settings) expect([imageVariable(name!), neo4j.environment?.[imageVariable(name!)]]).toEqual([imageVariable(name!), value]);
  });

  it('serves the room guide from the service image on the port the Browser settings name, reading Neo4j by its service name', () => {
    expect(guide.build).toEqual(service.build);
    expect(guide.command).toEqual(['node', 'browser/guide-server.mjs', '7476', 'http://neo4j:7474']);
    expect(guide.environment).toEqual({ GUIDE_HOST: '0.0.0.0' });
    expect(guide.ports!.map(port)).toEqual([{ host: '127.0.0.1', published: 7476, target: 7476 }]);
    expect(neo4j.environment?.NEO4J_browser_post__connect__cmd).toContain('play http://localhost:7476/guide.html');
    expect(guide.depends_on).toEqual({ neo4j: { condition: 'service_healthy' } });
  });

  it('sets only variables the service reads, and they load into the configuration it expects', () => {
    const environment = service.environment!;
    for (const name of Object.keys(environment)) expect(CONFIG_VARIABLES).toContain(name);
    const config = loadConfig(environment);
    expect(config.neo4j.uri).toBe('bolt://neo4j:7687');
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(8008);
    expect(config.serverName).toBe('localhost:8008');
    expect(config.signingKeyPath).toBe('/app/.data/signing.key');
  });

  it("reaches Neo4j by its service name on the port Neo4j's container listens on for Bolt", () => {
    const uri = new URL(service.environment!.NEO4J_URI!);
    expect(uri.hostname).toBe('neo4j');
    expect(neo4j.ports!.map(port).map((p) => p.target)).toContain(Number(uri.port));
    expect(service.depends_on).toEqual({ neo4j: { condition: 'service_healthy' } });
  });

  it('publishes the port the service listens on, on loopback, and keeps the signing key in a volume', () => {
    const config = loadConfig(service.environment!);
    expect(service.ports!.map(port)).toEqual([{ host: '127.0.0.1', published: 8008, target: config.port }]);
    const keyDirectory = config.signingKeyPath.slice(0, config.signingKeyPath.lastIndexOf('/'));
    expect(service.volumes![0]).toBe(`service-data:${keyDirectory}`);
  });

  it("checks the service's health with GET /ready on its ops listener, in the container's loopback, and gives shutdown more than its 10 s", () => {
    const config = loadConfig(service.environment!);
    const [kind, ...command] = service.healthcheck!.test;
    expect(kind).toBe('CMD');
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(config.opsHost).toBe('127.0.0.1');
    expect(command[2]).toContain(`fetch('http://127.0.0.1:${config.opsPort}/ready')`);
    expect(service.stop_grace_period).toBe('15s');
  });

  it('builds the service from the Dockerfile next to it', () => {
    expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
  });
});

describe('Dockerfile', () => {
  const instructions = dockerfile
    .split('\n')
    .filter((line) => /^[A-Z]+ /.test(line))
    .map((line) => line.split(' ')[0]);

  it('has a build stage and a runtime stage, the runtime taking only the compiled code from the build', () => {
    const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map((m) => [m[1], m[2]]);
    expect(stages).toEqual([
      ['node:20-bookworm-slim', 'build'],
      ['node:20-bookworm-slim', 'runtime'],
    ]);
    expect([...dockerfile.matchAll(/^COPY --from=(\S+) (\S+) (\S+)$/gm)].map((m) => [m[1], m[2], m[3]])).toEqual([
      ['build', '/app/dist/src', './dist/src'],
    ]);
    expect(dockerfile).toContain('RUN npm install --omit=dev');
  });

  it("runs node with the service's options, as npm start does", () => {
    expect(SERVICE_NODE_OPTIONS).toEqual(['--max-semi-space-size=16', '--heap-growing-percent=100']);
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe(`node scripts/build.mjs && node ${SERVICE_NODE_OPTIONS.join(' ')} dist/src/main.js`);
    expect(dockerfile.match(/^CMD .*$/gm)).toEqual(['CMD ["node", "--max-semi-space-size=16", "--heap-growing-percent=100", "dist/src/main.js"]']);
  });

  it('runs as the unprivileged node user, after everything that needs root', () => {
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect([...runtime.matchAll(/^USER (\S+)$/gm)].map((m) => m[1])).toEqual(['node']);
    const afterUser = runtime.slice(runtime.indexOf('USER node'));
    expect(afterUser).not.toMatch(/^(RUN|COPY) /m);
    expect(instructions[instructions.length - 1]).toBe('CMD');
  });

  it("starts the compiled service with defaults matching the compose file, and checks GET /health on the service's port", () => {
    const env = Object.fromEntries([...dockerfile.matchAll(/^\s*(?:ENV )?([A-Z_]+)=(\S+?)(?: \\)?$/gm)].map((m) => [m[1], m[2]]));
    expect(env).toEqual({ NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '8008', SIGNING_KEY_PATH: '/app/.data/signing.key' });
    for (const name of ['HOST', 'PORT', 'SIGNING_KEY_PATH']) {
      expect(CONFIG_VARIABLES).toContain(name);
      expect(env[name]).toBe(service.environment![name]);
    }
    expect(dockerfile).toContain('EXPOSE 8008');
  });

  it('checks GET /health on the port the service listens on: PORT, 8008 when unset', () => {
    const [check] = dockerfile.match(/^ {2}CMD \[.*\]$/m)!;
    const [, flag, script] = JSON.parse(check.trim().slice('CMD '.length)) as string[];
    expect(flag).toBe('-e');
    const url = (env: Record<string, string | undefined>) => {
      const fetched: string[] = [];
      new Function('process', 'fetch', script!)({ env, exit: () => {} }, (address: string) => {
        fetched.push(address);
        return new Promise(() => {});
      });
      return fetched;
    };
    expect(url({})).toEqual(['http://127.0.0.1:8008/health']);
    expect(url({ PORT: '8018' })).toEqual(['http://127.0.0.1:8018/health']);
    expect(dockerfile).not.toMatch(/127\.0\.0\.1:8008/);
  });

  it("puts maxtryx (package.json's bin) on the PATH, executable, before the image drops root", () => {
    const bin = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.maxtryx;
    expect(bin).toBe('dist/src/cli/main.js');
    expect(dockerfile).toMatch(new RegExp(`^RUN chmod \\+x ${bin} && ln -s /app/${bin} /usr/local/bin/maxtryx$`, 'm'));
    expect(readFileSync(join(ROOT, 'src', 'cli', 'main.ts'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(runtime.indexOf('ln -s /app/')).toBeGreaterThan(runtime.indexOf('COPY --from=build'));
    expect(runtime.indexOf('ln -s /app/')).toBeLessThan(runtime.indexOf('USER node'));
  });

  it('copies the Cypher files the service loads at start-up, and the room guide the guide container serves', () => {
    expect(dockerfile).toMatch(/^COPY cypher \.\/cypher$/m);
    expect(dockerfile).toMatch(/^COPY browser \.\/browser$/m);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const copied of ['cypher', 'browser', 'scripts', 'src']) expect(ignored).not.toContain(copied);
  });
});

describe('docker-compose.yml on a host where the default ports are taken', () => {
  const env = { PORT: '8018', NEO4J_HTTP_PORT: '7484', NEO4J_BOLT_PORT: '7697', NEO4J_GUIDE_PORT: '7486', IMPORT_DIR: '/srv/rooms' };
  const moved = loadCompose(env);

  it('publishes every port where the variables say, the containers still listening on their own', () => {
    expect(moved.services.neo4j!.ports!.map(port)).toEqual([
      { host: '127.0.0.1', published: 7484, target: 7474 },
      { host: '127.0.0.1', published: 7697, target: 7687 },
    ]);
    expect(moved.services.service!.ports!.map(port)).toEqual([{ host: '127.0.0.1', published: 8018, target: 8008 }]);
    // The guide links its style by the port it listens on, so it listens on the published one.
    expect(moved.services.guide!.ports!.map(port)).toEqual([{ host: '127.0.0.1', published: 7486, target: 7486 }]);
    expect(moved.services.guide!.command).toEqual(['node', 'browser/guide-server.mjs', '7486', 'http://neo4j:7474']);
  });

  it("points the Browser's post-connect command at the guide's published port, as scripts/neo4j.mjs does for its own", () => {
    expect(moved.services.neo4j!.environment!.NEO4J_browser_post__connect__cmd).toBe(
      'config autoComplete: false; clear; style http://localhost:7486/style.json; play http://localhost:7486/guide.html',
    );
    expect(compose.services.neo4j!.environment!.NEO4J_browser_post__connect__cmd).toBe(
      'config autoComplete: false; clear; style http://localhost:7476/style.json; play http://localhost:7476/guide.html',
    );
    // The local server's neo4j.conf names the guide port it was given, the same way.
    expect(localNeo4jConf(7486).split('\n')).toContain(`browser.post_connect_cmd=${moved.services.neo4j!.environment!.NEO4J_browser_post__connect__cmd}`);
  });

  it('leaves no published port, and no Browser or guide address, fixed in the file', () => {
    const settings = COMPOSE_TEXT.split('\n').filter((line) => !line.trim().startsWith('#')).join('\n');
    for (const mapping of Object.values(compose.services).flatMap((svc) => svc.ports ?? [])) expect(settings).not.toContain(`"${mapping}"`);
    expect(settings).not.toMatch(/localhost:7476|"7476"/);
    // What stays the same: the service's own settings inside its container.
    expect(moved.services.service!.environment).toEqual(compose.services.service!.environment);
  });

  it('mounts the room files to import read-only at /import, from ./import unless IMPORT_DIR says otherwise', () => {
    expect(compose.services.service!.volumes).toEqual(['service-data:/app/.data', './import:/import:ro']);
    expect(moved.services.service!.volumes).toEqual(['service-data:/app/.data', '/srv/rooms:/import:ro']);
  });

  it('reads ${NAME:-default}, ${NAME} and $$ as compose does, and refuses a bare $', () => {
    expect(interpolate('a${X:-1}b${Y}c$$d${Z:-}', { Y: 'y' })).toBe('a1byc$d');
    expect(interpolate('${X:-1}', { X: '' })).toBe('1');
    expect(() => interpolate('cost $5', {})).toThrow('a $ compose would not read');
  });
});
