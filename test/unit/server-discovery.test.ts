/**
 * Server discovery (server-server API, "Resolving server names"), step by step, with HTTPS, DNS and the clock
 * passed in as plain functions: the injected-I/O design, no network.
 */
import { FetchJson, FetchJsonOptions, FetchJsonResponse } from '../../src/federation/fetch-json';
import { cacheLifetime, ServerDiscovery, serverUrl, SrvRecord } from '../../src/federation/server-discovery';

const HOUR = 60 * 60 * 1000;

interface World {
  /** URL -> response, or an Error to reject with. */
  wellKnown: Record<string, FetchJsonResponse | Error>;
  srv: Record<string, SrvRecord[] | Error>;
  fetched: { url: string; options: FetchJsonOptions }[];
  srvAsked: string[];
  time: number;
  /** What the jitter's random() returns: 0.5 is no jitter, 0 the shortest lifetime (-10%), 1 the longest (+10%). */
  random: number;
}

function setUp(partial: Partial<Pick<World, 'wellKnown' | 'srv' | 'random'>> = {}) {
  const world: World = { wellKnown: {}, srv: {}, fetched: [], srvAsked: [], time: 1_700_000_000_000, random: 0.5, ...partial };
  const fetchJson: FetchJson = async (url, options) => {
    world.fetched.push({ url, options });
    const answer = world.wellKnown[url];
    if (answer instanceof Error) throw answer;
    return answer ?? { status: 404, headers: {}, json: { errcode: 'M_UNRECOGNIZED' } };
  };
  const resolveSrv = async (name: string) => {
    world.srvAsked.push(name);
    const answer = world.srv[name];
    if (answer instanceof Error) throw answer;
    return answer ?? [];
  };
  const discovery = new ServerDiscovery({ fetchJson, resolveSrv, now: () => world.time, random: () => world.random });
  return { world, discovery };
}

function json(body: unknown, headers: Record<string, string> = {}): FetchJsonResponse {
  return { status: 200, headers, json: body };
}

function srv(name: string, port: number, priority = 10, weight = 5): SrvRecord {
  return { name, port, priority, weight };
}

const WELL_KNOWN = (host: string) => `https://${host}/.well-known/matrix/server`;

describe('step 1: IP literals', () => {
  it('connects to an IPv4 literal on 8448, with the server name as Host and the IP as certificate name', async () => {
    const { world, discovery } = setUp();
    await expect(discovery.resolve('1.2.3.4')).resolves.toEqual({
      host: '1.2.3.4',
      port: 8448,
      hostHeader: '1.2.3.4',
      tlsServerName: '1.2.3.4',
    });
    expect(world.fetched).toEqual([]);
    expect(world.srvAsked).toEqual([]);
  });

  it('keeps the port of an IPv4 literal, in the Host header too', async () => {
    const { discovery } = setUp();
    await expect(discovery.resolve('1.2.3.4:8449')).resolves.toEqual({
      host: '1.2.3.4',
      port: 8449,
      hostHeader: '1.2.3.4:8449',
      tlsServerName: '1.2.3.4',
    });
  });

  it('connects to an IPv6 literal without its brackets, keeping them in Host', async () => {
    const { world, discovery } = setUp();
    await expect(discovery.resolve('[2001:db8::1]:8449')).resolves.toEqual({
      host: '2001:db8::1',
      port: 8449,
      hostHeader: '[2001:db8::1]:8449',
      tlsServerName: '2001:db8::1',
    });
    await expect(discovery.resolve('[2001:db8::1]')).resolves.toMatchObject({
      port: 8448,
      hostHeader: '[2001:db8::1]',
    });
    expect(world.fetched).toEqual([]);
  });
});

describe('step 2: an explicit port', () => {
  it('connects to the hostname and port with no well-known or SRV look-up', async () => {
    const { world, discovery } = setUp({ srv: { '_matrix-fed._tcp.example.org': [srv('elsewhere.example', 1)] } });
    await expect(discovery.resolve('example.org:8449')).resolves.toEqual({
      host: 'example.org',
      port: 8449,
      hostHeader: 'example.org:8449',
      tlsServerName: 'example.org',
    });
    expect(world.fetched).toEqual([]);
    expect(world.srvAsked).toEqual([]);
  });
});

describe('step 3: /.well-known/matrix/server', () => {
  it('asks https://<hostname>/.well-known/matrix/server', async () => {
    const { world, discovery } = setUp({
      wellKnown: { [WELL_KNOWN('example.org')]: json({ 'm.server': 'matrix.example.org:443' }) },
    });
    await discovery.resolve('example.org');
    expect(world.fetched.map((f) => f.url)).toEqual(['https://example.org/.well-known/matrix/server']);
  });

  it('3.1: uses a delegated IP literal, with the IP (and port) as Host', async () => {
    const { discovery } = setUp({
      wellKnown: { [WELL_KNOWN('example.org')]: json({ 'm.server': '[2001:db8::2]:9000' }) },
    });
    await expect(discovery.resolve('example.org')).resolves.toEqual({
      host: '2001:db8::2',
      port: 9000,
      hostHeader: '[2001:db8::2]:9000',
      tlsServerName: '2001:db8::2',
    });
    const other = setUp({ wellKnown: { [WELL_KNOWN('example.org')]: json({ 'm.server': '5.6.7.8' }) } });
    await expect(other.discovery.resolve('example.org')).resolves.toEqual({
      host: '5.6.7.8',
      port: 8448,
      hostHeader: '5.6.7.8',
      tlsServerName: '5.6.7.8',
    });
  });

  it('3.2: uses a delegated hostname and port, with no SRV look-up', async () => {
    const { world, discovery } = setUp({
      wellKnown: { [WELL_KNOWN('example.org')]: json({ 'm.server': 'matrix.example.org:443' }) },
    });
    await expect(discovery.resolve('example.org')).resolves.toEqual({
      host: 'matrix.example.org',
      port: 443,
      hostHeader: 'matrix.example.org:443',
      tlsServerName: 'matrix.example.org',
    });
    expect(world.srvAsked).toEqual([]);
  });

  it('3.3: follows _matrix-fed._tcp of the delegated hostname, keeping it as Host and certificate name', async () => {
    const { world, discovery } = setUp({
      wellKnown: { [WELL_KNOWN('example.org')]: json({ 'm.server': 'matrix.example.org' }) },
      srv: { '_matrix-fed._tcp.matrix.example.org': [srv('fed1.example.net.', 8500)] },
    });
    await expect(discovery.resolve('example.org')).resolves.toEqual({
      host: 'fed1.example.net',
      port: 8500,
      hostHeader: 'matrix.example.org',
      tlsServerName: 'matrix.example.org',
    });
    expect(world.srvAsked).toEqual(['_matrix-fed._tcp.matrix.example.org']);
  });

  it('3.4: falls back to the deprecated _matrix._tcp of the delegated hostname', async () => {
    const { world, discovery } = setUp({
      wellKnown: { [WELL_KNOWN('example.org')]: json({ 'm.server': 'matrix.example.org' }) },
      srv: { '_matrix._tcp.matrix.example.org': [srv('old.example.net', 8501)] },
    });
    await expect(discovery.resolve('example.org')).resolves.toEqual({
      host: 'old.example.net',
      port: 8501,
      hostHeader: 'matrix.example.org',
      tlsServerName: 'matrix.example.org',
    });
    expect(world.srvAsked).toEqual(['_matrix-fed._tcp.matrix.example.org', '_matrix._tcp.matrix.example.org']);
  });

  it('3.5: uses the delegated hostname on 8448 when it has no SRV records', async () => {
    const { discovery } = setUp({
      wellKnown: { [WELL_KNOWN('example.org')]: json({ 'm.server': 'matrix.example.org' }) },
    });
    await expect(discovery.resolve('example.org')).resolves.toEqual({
      host: 'matrix.example.org',
      port: 8448,
      hostHeader: 'matrix.example.org',
      tlsServerName: 'matrix.example.org',
    });
  });

  it('follows redirects to https URLs', async () => {
    const { world, discovery } = setUp({
      wellKnown: {
        [WELL_KNOWN('example.org')]: {
          status: 301,
          headers: { location: 'https://www.example.org/.well-known/matrix/server' },
          json: undefined,
        },
        [WELL_KNOWN('www.example.org')]: { status: 302, headers: { location: '/delegation.json' }, json: undefined },
        'https://www.example.org/delegation.json': json({ 'm.server': 'matrix.example.org:443' }),
      },
    });
    await expect(discovery.resolve('example.org')).resolves.toMatchObject({ host: 'matrix.example.org', port: 443 });
    expect(world.fetched.map((f) => f.url)).toEqual([
      'https://example.org/.well-known/matrix/server',
      'https://www.example.org/.well-known/matrix/server',
      'https://www.example.org/delegation.json',
    ]);
  });

  it.each([
    [
      'a redirect loop',
      {
        [WELL_KNOWN('example.org')]: { status: 302, headers: { location: WELL_KNOWN('example.org') }, json: undefined },
      },
    ],
    [
      'a redirect to http',
      { [WELL_KNOWN('example.org')]: { status: 302, headers: { location: 'http://example.org/x' }, json: undefined } },
    ],
    ['a 404', { [WELL_KNOWN('example.org')]: { status: 404, headers: {}, json: {} } }],
    [
      'a 500 with a valid body',
      { [WELL_KNOWN('example.org')]: { status: 500, headers: {}, json: { 'm.server': 'x.example:1' } } },
    ],
    ['a body that is not JSON', { [WELL_KNOWN('example.org')]: { status: 200, headers: {}, json: undefined } }],
    ['a JSON array', { [WELL_KNOWN('example.org')]: json(['m.server']) }],
    ['no m.server', { [WELL_KNOWN('example.org')]: json({ 'm.homeserver': 'x' }) }],
    ['an m.server that is not a string', { [WELL_KNOWN('example.org')]: json({ 'm.server': 443 }) }],
    [
      'an m.server that is not a server name',
      { [WELL_KNOWN('example.org')]: json({ 'm.server': 'https://matrix.example.org' }) },
    ],
    ['a network error', { [WELL_KNOWN('example.org')]: new Error('ECONNREFUSED') }],
  ])('goes on to step 4 after %s', async (_case, wellKnown) => {
    const { discovery } = setUp({ wellKnown, srv: { '_matrix-fed._tcp.example.org': [srv('fed.example.net', 8600)] } });
    await expect(discovery.resolve('example.org')).resolves.toEqual({
      host: 'fed.example.net',
      port: 8600,
      hostHeader: 'example.org',
      tlsServerName: 'example.org',
    });
  });

  it('gives up on more than five redirects', async () => {
    const wellKnown: Record<string, FetchJsonResponse> = {};
    for (let i = 0; i < 7; i++) {
      wellKnown[i === 0 ? WELL_KNOWN('example.org') : `https://example.org/${i}`] = {
        status: 307,
        headers: { location: `https://example.org/${i + 1}` },
        json: undefined,
      };
    }
    wellKnown['https://example.org/7'] = json({ 'm.server': 'matrix.example.org:443' });
    const { world, discovery } = setUp({ wellKnown });
    await expect(discovery.resolve('example.org')).resolves.toMatchObject({ host: 'example.org', port: 8448 });
    expect(world.fetched).toHaveLength(6);
  });
});

describe('steps 4-6: SRV records of the server name, then 8448', () => {
  it('4: uses _matrix-fed._tcp.<hostname>, with the hostname as Host and certificate name', async () => {
    const { world, discovery } = setUp({ srv: { '_matrix-fed._tcp.example.org': [srv('fed.example.net', 8600)] } });
    await expect(discovery.resolve('example.org')).resolves.toEqual({
      host: 'fed.example.net',
      port: 8600,
      hostHeader: 'example.org',
      tlsServerName: 'example.org',
    });
    expect(world.srvAsked).toEqual(['_matrix-fed._tcp.example.org']);
  });

  it('5: falls back to the deprecated _matrix._tcp.<hostname>', async () => {
    const { discovery } = setUp({ srv: { '_matrix._tcp.example.org': [srv('old.example.net', 8601)] } });
    await expect(discovery.resolve('example.org')).resolves.toEqual({
      host: 'old.example.net',
      port: 8601,
      hostHeader: 'example.org',
      tlsServerName: 'example.org',
    });
  });

  it('6: uses the hostname on 8448, also when the SRV look-ups fail', async () => {
    const { world, discovery } = setUp({ srv: { '_matrix-fed._tcp.example.org': new Error('ESERVFAIL') } });
    await expect(discovery.resolve('example.org')).resolves.toEqual({
      host: 'example.org',
      port: 8448,
      hostHeader: 'example.org',
      tlsServerName: 'example.org',
    });
    expect(world.srvAsked).toEqual(['_matrix-fed._tcp.example.org', '_matrix._tcp.example.org']);
  });

  it('chooses the lowest priority, then the highest weight', async () => {
    const { discovery } = setUp({
      srv: {
        '_matrix-fed._tcp.example.org': [
          srv('c.example', 3, 20, 100),
          srv('a.example', 1, 10, 1),
          srv('b.example', 2, 10, 50),
        ],
      },
    });
    await expect(discovery.resolve('example.org')).resolves.toMatchObject({ host: 'b.example', port: 2 });
  });

  it('treats a "." target ("service not offered") as no record', async () => {
    const { discovery } = setUp({
      srv: { '_matrix-fed._tcp.example.org': [srv('.', 0)], '_matrix._tcp.example.org': [srv('old.example', 9)] },
    });
    await expect(discovery.resolve('example.org')).resolves.toMatchObject({ host: 'old.example', port: 9 });
  });
});

describe('well-known caching', () => {
  const delegating = (extraHeaders: Record<string, string> = {}) => ({
    wellKnown: { [WELL_KNOWN('example.org')]: json({ 'm.server': 'matrix.example.org:443' }, extraHeaders) },
  });

  it('keeps a response for 24 hours by default, fetching it again once 80% of that has passed', async () => {
    const { world, discovery } = setUp(delegating());
    await discovery.resolve('example.org');
    world.time += 0.8 * 24 * HOUR - 1;
    await discovery.resolve('example.org');
    expect(world.fetched).toHaveLength(1);
    world.time += 1;
    await discovery.resolve('example.org');
    expect(world.fetched).toHaveLength(2);
  });

  it('varies the default lifetime by up to 10% either way', async () => {
    for (const [random, lifetime] of [[0, 0.9 * 24 * HOUR], [1, 1.1 * 24 * HOUR]] as const) {
      const { world, discovery } = setUp({ ...delegating(), random });
      await discovery.resolve('example.org');
      world.time += 0.8 * lifetime - 1;
      await discovery.resolve('example.org');
      expect(world.fetched).toHaveLength(1);
      world.time += 1;
      await discovery.resolve('example.org');
      expect(world.fetched).toHaveLength(2);
    }
  });

  it('respects Cache-Control max-age, from 5 minutes up', async () => {
    const { world, discovery } = setUp(delegating({ 'cache-control': 'public, max-age=600' }));
    await discovery.resolve('example.org');
    world.time += 480_000 - 1;
    await discovery.resolve('example.org');
    expect(world.fetched).toHaveLength(1);
    world.time += 1;
    await discovery.resolve('example.org');
    expect(world.fetched).toHaveLength(2);

    const short = setUp(delegating({ 'cache-control': 'max-age=10' }));
    await short.discovery.resolve('example.org');
    short.world.time += 0.8 * 5 * 60_000 - 1;
    await short.discovery.resolve('example.org');
    expect(short.world.fetched).toHaveLength(1);
  });

  it('caps max-age at 48 hours', async () => {
    const { world, discovery } = setUp(delegating({ 'cache-control': 'max-age=31536000' }));
    await discovery.resolve('example.org');
    world.time += 48 * HOUR;
    await discovery.resolve('example.org');
    expect(world.fetched).toHaveLength(2);
  });

  it('keeps an error for an hour, and meanwhile resolves as if there were no well-known', async () => {
    const { world, discovery } = setUp({ srv: { '_matrix-fed._tcp.example.org': [srv('fed.example.net', 8600)] } });
    await discovery.resolve('example.org');
    world.wellKnown[WELL_KNOWN('example.org')] = json({ 'm.server': 'matrix.example.org:443' });
    world.time += HOUR - 1;
    await expect(discovery.resolve('example.org')).resolves.toMatchObject({ host: 'fed.example.net' });
    expect(world.fetched).toHaveLength(1);
    world.time += 1;
    await expect(discovery.resolve('example.org')).resolves.toMatchObject({ host: 'matrix.example.org', port: 443 });
    expect(world.fetched).toHaveLength(2);
  });

  it('makes one request for concurrent resolutions of one name', async () => {
    const { world, discovery } = setUp(delegating());
    await Promise.all([discovery.resolve('example.org'), discovery.resolve('example.org'), discovery.resolve('example.org')]);
    expect(world.fetched).toHaveLength(1);
  });

  it('keeps an error for an hour, give or take 10%', async () => {
    for (const [random, lifetime] of [[0, 0.9 * HOUR], [1, 1.1 * HOUR]] as const) {
      const { world, discovery } = setUp({ random });
      await discovery.resolve('example.org');
      world.time += lifetime - 1;
      await discovery.resolve('example.org');
      expect(world.fetched).toHaveLength(1);
      world.time += 1;
      await discovery.resolve('example.org');
      expect(world.fetched).toHaveLength(2);
    }
  });
});

describe('well-known failures after a valid result (issue 19, item 10)', () => {
  const delegated = { host: 'matrix.example.org', port: 443, hostHeader: 'matrix.example.org:443' };
  const fallback = { host: 'example.org', port: 8448, hostHeader: 'example.org' };
  const valid = json({ 'm.server': 'matrix.example.org:443' });
  const refresh = 0.8 * 24 * HOUR;

  it('keeps using the delegation through a transient failure, asking again after 2 minutes', async () => {
    const { world, discovery } = setUp({ wellKnown: { [WELL_KNOWN('example.org')]: valid } });
    await expect(discovery.resolve('example.org')).resolves.toMatchObject(delegated);

    for (const failure of [new Error('connect ECONNREFUSED'), { status: 503, headers: {}, json: {} }]) {
      world.wellKnown[WELL_KNOWN('example.org')] = failure;
      world.time += refresh;
      await expect(discovery.resolve('example.org')).resolves.toMatchObject(delegated);
      const asked = world.fetched.length;
      world.time += 2 * 60_000 - 1;
      await expect(discovery.resolve('example.org')).resolves.toMatchObject(delegated);
      expect(world.fetched).toHaveLength(asked);
      world.time += 1;
      await expect(discovery.resolve('example.org')).resolves.toMatchObject(delegated);
      expect(world.fetched).toHaveLength(asked + 1);
      world.wellKnown[WELL_KNOWN('example.org')] = valid;
      world.time += 2 * 60_000;
      await expect(discovery.resolve('example.org')).resolves.toMatchObject(delegated);
    }
  });

  it('takes an invalid answer (404) as no delegation, but only for 2 minutes', async () => {
    const { world, discovery } = setUp({ wellKnown: { [WELL_KNOWN('example.org')]: valid } });
    await discovery.resolve('example.org');
    world.wellKnown[WELL_KNOWN('example.org')] = { status: 404, headers: {}, json: {} };
    world.time += refresh;
    await expect(discovery.resolve('example.org')).resolves.toMatchObject(fallback);
    world.wellKnown[WELL_KNOWN('example.org')] = valid;
    world.time += 2 * 60_000;
    await expect(discovery.resolve('example.org')).resolves.toMatchObject(delegated);
    expect(world.fetched).toHaveLength(3);
  });

  it('forgets the delegation 2 hours after its lifetime ended; then a failure is kept for an hour', async () => {
    const lifetime = 10 * 60_000;
    const { world, discovery } = setUp({ wellKnown: { [WELL_KNOWN('example.org')]: json({ 'm.server': 'matrix.example.org:443' }, { 'cache-control': 'max-age=600' }) } });
    await discovery.resolve('example.org');
    world.wellKnown[WELL_KNOWN('example.org')] = new Error('no answer');
    world.time += lifetime + 2 * HOUR - 1;
    await expect(discovery.resolve('example.org')).resolves.toMatchObject(delegated);
    world.time += 2 * 60_000; // past the 2 hours now
    await expect(discovery.resolve('example.org')).resolves.toMatchObject(fallback);
    const asked = world.fetched.length;
    world.time += HOUR - 1;
    await expect(discovery.resolve('example.org')).resolves.toMatchObject(fallback);
    expect(world.fetched).toHaveLength(asked);
  });

  it('reads Cache-Control', () => {
    expect(cacheLifetime(undefined)).toBe(24 * HOUR);
    expect(cacheLifetime('public')).toBe(24 * HOUR);
    expect(cacheLifetime('max-age=60')).toBe(60_000);
    expect(cacheLifetime('private, MAX-AGE="120"')).toBe(120_000);
    expect(cacheLifetime('no-store')).toBe(0);
    expect(cacheLifetime('max-age=999999999')).toBe(48 * HOUR);
  });
});

describe('resolve', () => {
  it('rejects what is not a server name, naming it', async () => {
    const { world, discovery } = setUp();
    await expect(discovery.resolve('not a server')).rejects.toThrow('cannot resolve "not a server"');
    expect(world.fetched).toEqual([]);
  });
});

describe('serverUrl', () => {
  it('brackets IPv6 addresses', () => {
    expect(
      serverUrl(
        { host: '2001:db8::1', port: 8448, hostHeader: '[2001:db8::1]', tlsServerName: '2001:db8::1' },
        '/_matrix/key/v2/server',
      ),
    ).toBe('https://[2001:db8::1]:8448/_matrix/key/v2/server');
    expect(
      serverUrl({ host: 'example.org', port: 443, hostHeader: 'example.org', tlsServerName: 'example.org' }, '/x'),
    ).toBe('https://example.org:443/x');
  });
});
