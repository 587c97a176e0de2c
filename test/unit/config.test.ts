import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { loadConfigWithFile } from '../../src/config-file';

describe('loadConfig', () => {
  it('gives every setting its documented default', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      serverName: 'localhost:8008',
      host: '127.0.0.1',
      port: 8008,
      opsHost: '127.0.0.1',
      opsPort: 9898,
      signingKeyPath: '.data/signing.key',
      neo4j: { uri: undefined, user: undefined, password: undefined, database: undefined, maxConnections: 2 * availableParallelism(), queryTimeoutMs: 5000 },
      bodyLimitBytes: 1048576,
      requestDeadlineMs: 10000,
      missingEventsMaxLimit: 20,
      maxLatestEvents: 256,
      maxEarliestEvents: 4096,
      federationVerifyTls: true,
      federationAllowPrivateAddresses: false,
      keyFetchTimeoutMs: 10000,
      keyFetchMaxWaiting: 32,
      trustedKeyServers: [],
      logLevel: 'info',
      demoRoomEvents: 2000,
      rcFederation: { windowMs: 1000, sleepLimit: 10, sleepDelayMs: 500, rejectLimit: 50, concurrent: 3 },
    });
    expect('upstreamFederation' in config && config.upstreamFederation).toBe(undefined);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the environment', () => {
    const config = loadConfig({
      SERVER_NAME: 'example.org:8448',
      PORT: '0',
      NEO4J_URI: 'neo4j://db.example:7687',
      NEO4J_USER: 'neo4j',
      NEO4J_PASSWORD: 'secret',
      NEO4J_MAX_CONNECTIONS: '6',
      FEDERATION_VERIFY_TLS: 'false',
      FEDERATION_ALLOW_PRIVATE_ADDRESSES: '1',
      MISSING_EVENTS_MAX_LIMIT: '50',
      TRUSTED_KEY_SERVERS: 'notary.example ed25519:a abc, other.example ed25519:x def ed25519:y ghi',
      RC_FEDERATION_WINDOW_MS: '2000',
      RC_FEDERATION_SLEEP_LIMIT: '20',
      RC_FEDERATION_SLEEP_DELAY_MS: '0',
      RC_FEDERATION_REJECT_LIMIT: '100',
      RC_FEDERATION_CONCURRENT: '1',
    });
    expect(config.serverName).toBe('example.org:8448');
    expect(config.port).toBe(0);
    expect(config.neo4j).toEqual({ uri: 'neo4j://db.example:7687', user: 'neo4j', password: 'secret', database: undefined, maxConnections: 6, queryTimeoutMs: 5000 });
    expect(config.federationVerifyTls).toBe(false);
    expect(config.federationAllowPrivateAddresses).toBe(true);
    expect(config.missingEventsMaxLimit).toBe(50);
    expect(config.rcFederation).toEqual({ windowMs: 2000, sleepLimit: 20, sleepDelayMs: 0, rejectLimit: 100, concurrent: 1 });
    expect(config.trustedKeyServers).toEqual([
      { serverName: 'notary.example', verifyKeys: { 'ed25519:a': 'abc' } },
      { serverName: 'other.example', verifyKeys: { 'ed25519:x': 'def', 'ed25519:y': 'ghi' } },
    ]);
  });

  it('reads the ops listener and the homeserver to pass requests to', () => {
    const config = loadConfig({ OPS_HOST: '0.0.0.0', OPS_PORT: '9100', UPSTREAM_FEDERATION_URL: 'https://127.0.0.1:8448', UPSTREAM_FEDERATION_VERIFY_TLS: '0' });
    expect([config.opsHost, config.opsPort]).toEqual(['0.0.0.0', 9100]);
    expect(config.upstreamFederation).toEqual({ url: 'https://127.0.0.1:8448', verifyTls: false, timeoutMs: 8000 });
    expect(loadConfig({ UPSTREAM_FEDERATION_URL: 'http://[::1]:8008/', UPSTREAM_FEDERATION_TIMEOUT_MS: '500' }).upstreamFederation).toEqual({
      url: 'http://[::1]:8008/', verifyTls: true, timeoutMs: 500,
    });
  });

  it.each([
    [{ OPS_PORT: '70000' }, 'OPS_PORT is invalid: must be less than or equal to 65535'],
    [{ UPSTREAM_FEDERATION_URL: 'ftp://hs.example' }, 'UPSTREAM_FEDERATION_URL is invalid: must be a valid uri with a scheme matching the http|https pattern'],
    [{ UPSTREAM_FEDERATION_URL: 'https://hs.example/_matrix' }, 'UPSTREAM_FEDERATION_URL is invalid: with value "https://hs.example/_matrix" fails to match the scheme://host:port pattern'],
    [{ UPSTREAM_FEDERATION_TIMEOUT_MS: '10000' }, 'UPSTREAM_FEDERATION_TIMEOUT_MS is invalid: must be less than ref:REQUEST_DEADLINE_MS'],
    [{ PORT: 'eighty' }, 'PORT is invalid: must be a number'],
    [{ PORT: '70000' }, 'PORT is invalid: must be less than or equal to 65535'],
    [{ SERVER_NAME: 'bad name' }, 'SERVER_NAME is invalid: with value "bad name" fails to match the required pattern: /^[A-Za-z0-9.\\-]+(:\\d{1,5})?$|^\\[[0-9A-Fa-f:.]+\\](:\\d{1,5})?$/'],
    [{ NEO4J_URI: 'http://localhost:7474' }, 'NEO4J_URI is invalid: must be a valid uri with a scheme matching the bolt|bolt\\+s|bolt\\+ssc|neo4j|neo4j\\+s|neo4j\\+ssc pattern'],
    [{ FEDERATION_VERIFY_TLS: 'maybe' }, 'FEDERATION_VERIFY_TLS is invalid: must be a boolean'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL is invalid: must be one of [error, warn, info, debug]'],
    [{ RC_FEDERATION_CONCURRENT: '0' }, 'RC_FEDERATION_CONCURRENT is invalid: must be greater than or equal to 1'],
    [{ RC_FEDERATION_WINDOW_MS: '1.5' }, 'RC_FEDERATION_WINDOW_MS is invalid: must be an integer'],
    [{ RC_FEDERATION_SLEEP_DELAY_MS: '-1' }, 'RC_FEDERATION_SLEEP_DELAY_MS is invalid: must be greater than or equal to 0'],
    [{ TRUSTED_KEY_SERVERS: 'notary.example' }, 'TRUSTED_KEY_SERVERS is invalid: "notary.example" is not "server_name key_id public_key ..."'],
    [{ TRUSTED_KEY_SERVERS: 'notary.example rsa:1 abc' }, 'TRUSTED_KEY_SERVERS is invalid: rsa:1 is not an ed25519 key ID'],
  ])('names the bad variable: %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('FOLLOW_SYNAPSE_DATABASE (serve --follow)', () => {
  it('is a postgres:// URL, with the rooms of FOLLOW_SYNAPSE_ROOMS (comma-separated, all rooms when unset)', () => {
    expect(loadConfig({}).followSynapse).toBeUndefined();
    expect(loadConfig({ FOLLOW_SYNAPSE_DATABASE: 'postgresql://synapse:pw@db:5432/synapse' }).followSynapse).toEqual({
      database: 'postgresql://synapse:pw@db:5432/synapse', rooms: [],
    });
    expect(loadConfig({ FOLLOW_SYNAPSE_DATABASE: 'postgres://db/synapse', FOLLOW_SYNAPSE_ROOMS: '!a:hs1, !b:hs1' }).followSynapse).toEqual({
      database: 'postgres://db/synapse', rooms: ['!a:hs1', '!b:hs1'],
    });
  });

  it('refuses an SQLite path: follow reads only PostgreSQL', () => {
    expect(() => loadConfig({ FOLLOW_SYNAPSE_DATABASE: '/var/lib/synapse/homeserver.db' })).toThrow(
      'FOLLOW_SYNAPSE_DATABASE is invalid: with value "/var/lib/synapse/homeserver.db" fails to match the postgres://... pattern',
    );
  });
});

describe('LOG_FORMAT', () => {
  it('is json or pretty, unset by default (pretty on a terminal, decided where the logger is made)', () => {
    expect([loadConfig({}).logFormat, loadConfig({ LOG_FORMAT: 'json' }).logFormat, loadConfig({ LOG_FORMAT: 'pretty' }).logFormat]).toEqual([undefined, 'json', 'pretty']);
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow('LOG_FORMAT is invalid: must be one of [json, pretty]');
  });
});

describe('a configuration file (--config FILE, MAXTRYX_CONFIG)', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'maxtryx-config-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('takes the environment variables as keys; the environment overrides the file', () => {
    const path = file('maxtryx.yaml', 'SERVER_NAME: example.org\nPORT: 8448\nFEDERATION_VERIFY_TLS: false\n# a comment\nLOG_LEVEL: warn\n');
    const config = loadConfigWithFile({}, path);
    expect([config.serverName, config.port, config.federationVerifyTls, config.logLevel]).toEqual(['example.org', 8448, false, 'warn']);
    const overridden = loadConfigWithFile({ PORT: '9000', MAXTRYX_CONFIG: path });
    expect([overridden.serverName, overridden.port]).toEqual(['example.org', 9000]);
    // An empty variable is unset, as loadConfig reads it: the file's value stands.
    expect(loadConfigWithFile({ SERVER_NAME: '' }, path).serverName).toBe('example.org');
    expect(loadConfigWithFile({}, file('empty.yaml', '# nothing yet\n')).serverName).toBe('localhost:8008');
  });

  it('names the file and the key in its errors', () => {
    const path = file('bad-port.yaml', 'PORT: 99999\n');
    expect(() => loadConfigWithFile({}, path)).toThrow(`${path}: PORT is invalid: must be less than or equal to 65535`);
    // The environment's bad value is the environment's.
    expect(() => loadConfigWithFile({ PORT: 'x' }, file('fine.yaml', 'SERVER_NAME: example.org\n'))).toThrow(/^PORT is invalid: must be a number$/);
    const lower = file('lower.yaml', 'server_name: example.org\n');
    expect(() => loadConfigWithFile({}, lower)).toThrow(`${lower}: server_name is not a setting; did you mean SERVER_NAME? (the keys are written as the environment variables)`);
    const unknown = file('unknown.yaml', 'LISTEN_PORT: 1\n');
    expect(() => loadConfigWithFile({}, unknown)).toThrow(`${unknown}: LISTEN_PORT is not a setting (the settings are the environment variables listed by maxtryx serve --help)`);
    const list = file('list.yaml', 'TRUSTED_KEY_SERVERS:\n  - matrix.org\n');
    expect(() => loadConfigWithFile({}, list)).toThrow(`${list}: TRUSTED_KEY_SERVERS must be one value (a string, a number or true/false), not a list`);
    const notYaml = file('not.yaml', 'SERVER_NAME: [unclosed\n');
    expect(() => loadConfigWithFile({}, notYaml)).toThrow(new RegExp(`^${notYaml.replace(/[.]/g, '\\.')}: not YAML: `));
    const notMapping = file('list-top.yaml', '- SERVER_NAME\n');
    expect(() => loadConfigWithFile({}, notMapping)).toThrow(`${notMapping}: not a mapping of settings (KEY: value, one a line)`);
    expect(() => loadConfigWithFile({}, join(dir, 'absent.yaml'))).toThrow(`${join(dir, 'absent.yaml')}: cannot read it (ENOENT)`);
  });
});
