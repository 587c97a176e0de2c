/**
 * Server discovery (server-server API, "Resolving server names"): from a server name to the address and port to
 * connect to, the `Host` header to send and the name the certificate must be valid for. HTTPS, DNS and the clock
 * are passed in, as matrix-appservice-bridge's MatrixHostResolver takes `{fetch, dns, currentTimeMs}`, so every
 * step is tested without a network.
 */
import { parseServerName, ServerName } from '../core/server-name';
import { FetchJson, FetchJsonResponse } from './fetch-json';

export interface ResolvedServer {
  /** Where to connect: a DNS name (looked up with A/AAAA) or an IP address, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  readonly hostHeader: string;
  /** The name the server's certificate must be valid for: a DNS name or an IP address. */
  readonly tlsServerName: string;
}

/** As node's dns.resolveSrv returns them. */
export interface SrvRecord {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

export interface ServerDiscoveryDeps {
  readonly fetchJson: FetchJson;
  /** The SRV records of a name; an empty list (or a rejection) when there are none. */
  readonly resolveSrv: (name: string) => Promise<readonly SrvRecord[]>;
  readonly now: () => number;
  /** In [0, 1), for the jitter of cache lifetimes; Math.random unless given. */
  readonly random?: () => number;
}

export interface ServerDiscoveryOptions {
  readonly wellKnownTimeoutMs?: number;
  readonly maxCachedWellKnown?: number;
}

const DEFAULT_PORT = 8448;
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
// "The recommended sensible default is 24 hours. Servers should additionally impose a maximum cache time for
// responses: 48 hours is recommended. Errors are recommended to be cached for up to an hour."
const WELL_KNOWN_DEFAULT_CACHE_MS = 24 * HOUR;
const WELL_KNOWN_MAX_CACHE_MS = 48 * HOUR;
const WELL_KNOWN_ERROR_CACHE_MS = HOUR;
// As Synapse's well_known_resolver.py: a lifetime from Cache-Control is at least 5 minutes; a failure for a domain
// that had a valid .well-known within its lifetime and 2 hours after is retried after 2 minutes (and, if the failure
// looks transient, the last valid delegation is used meanwhile); a valid result is fetched again once 80% of its
// lifetime has passed; lifetimes we choose (not the server's max-age) vary by +-10% so that the servers first seen
// together are not all asked again at the same moment.
const WELL_KNOWN_MIN_CACHE_MS = 5 * MINUTE;
const WELL_KNOWN_DOWN_CACHE_MS = 2 * MINUTE;
const WELL_KNOWN_REMEMBER_VALID_MS = 2 * HOUR;
const WELL_KNOWN_REFRESH_FACTOR = 0.8;
const WELL_KNOWN_JITTER = 0.1;
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

interface WellKnownEntry {
  /** The delegation to use, or undefined for none (an error, an invalid answer, none ever valid). */
  readonly delegated: ServerName | undefined;
  /** When to fetch again; until then `delegated` is the answer. */
  readonly refreshTs: number;
}

/** The last valid `m.server` of a domain, remembered for its lifetime and 2 hours more. */
interface ValidWellKnown {
  readonly delegated: ServerName;
  readonly rememberUntilTs: number;
}

/** What one fetch of a .well-known gave. `unreachable`: no answer, or a 5xx, which may pass. */
type WellKnownOutcome =
  | { readonly kind: 'valid'; readonly delegated: ServerName; readonly lifetimeMs: number }
  | { readonly kind: 'invalid' | 'unreachable' };

export class ServerDiscovery {
  private readonly wellKnownCache = new Map<string, WellKnownEntry>();
  private readonly lastValid = new Map<string, ValidWellKnown>();
  /** One fetch per domain at a time, shared by every caller. */
  private readonly wellKnownInFlight = new Map<string, Promise<ServerName | undefined>>();
  private readonly wellKnownTimeoutMs: number;
  private readonly maxCachedWellKnown: number;

  constructor(
    private readonly deps: ServerDiscoveryDeps,
    options: ServerDiscoveryOptions = {},
  ) {
    this.wellKnownTimeoutMs = options.wellKnownTimeoutMs ?? 10_000;
    this.maxCachedWellKnown = options.maxCachedWellKnown ?? 10_000;
  }

  /** Follows the spec's steps in order; rejects only for a string that is not a server name. */
  async resolve(serverName: string): Promise<ResolvedServer> {
    const parsed = parseServerName(serverName);
    if (!parsed.ok) throw new Error(`cannot resolve "${serverName}": ${parsed.reason}`);
    const { hostname, address, port, kind } = parsed.serverName;

    // Step 1: an IP literal is used as it is, with the server name (port included) as `Host`.
    if (kind !== 'dns')
      return { host: address, port: port ?? DEFAULT_PORT, hostHeader: serverName, tlsServerName: address };
    // Step 2: an explicit port skips delegation; `Host` is the original server name, with its port.
    if (port !== undefined) return { host: hostname, port, hostHeader: serverName, tlsServerName: hostname };

    // Step 3: /.well-known/matrix/server delegates to another name, which is resolved by the same rules.
    const delegated = await this.wellKnown(hostname);
    if (delegated !== undefined) return this.resolveDelegated(delegated);

    // Steps 4-6: SRV records of the server name itself, then port 8448.
    return this.resolveBySrv(hostname);
  }

  private async resolveDelegated(delegated: ServerName): Promise<ResolvedServer> {
    const { hostname, address, port, kind } = delegated;
    const hostHeader = port === undefined ? hostname : `${hostname}:${port}`;
    // 3.1: "Requests must be made with a `Host` header containing the IP address, including the port if one was provided."
    if (kind !== 'dns') return { host: address, port: port ?? DEFAULT_PORT, hostHeader, tlsServerName: address };
    // 3.2: an explicit delegated port: no SRV look-up.
    if (port !== undefined) return { host: hostname, port, hostHeader, tlsServerName: hostname };
    // 3.3-3.5: SRV records of the delegated name, then port 8448.
    return this.resolveBySrv(hostname);
  }

  /**
   * `_matrix-fed._tcp.<name>`, then the deprecated `_matrix._tcp.<name>`, else port 8448. Whatever the SRV target,
   * `Host` and the certificate stay `<name>`: DNS is not authenticated, so the target must prove by TLS that it
   * may speak for the name.
   */
  private async resolveBySrv(hostname: string): Promise<ResolvedServer> {
    for (const service of ['_matrix-fed._tcp', '_matrix._tcp']) {
      const record = await this.srvTarget(`${service}.${hostname}`);
      if (record !== undefined)
        return { host: record.name, port: record.port, hostHeader: hostname, tlsServerName: hostname };
    }
    return { host: hostname, port: DEFAULT_PORT, hostHeader: hostname, tlsServerName: hostname };
  }

  /**
   * The record to use: the lowest priority, then the highest weight. RFC 2782's weighted random choice only
   * spreads load, and we make few enough requests that a stable choice is simpler to reason about. A target of
   * "." means the service is decidedly not offered there, so such records count as none.
   */
  private async srvTarget(name: string): Promise<SrvRecord | undefined> {
    let records: readonly SrvRecord[];
    try {
      records = await this.deps.resolveSrv(name);
    } catch {
      return undefined;
    }
    const usable = records
      .map((record) => ({ ...record, name: record.name.replace(/\.$/, '') }))
      .filter((record) => record.name !== '' && record.port > 0);
    usable.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    return usable[0];
  }

  /**
   * The delegated server name from `https://<hostname>/.well-known/matrix/server`, cached as the spec recommends and
   * as Synapse does (see the constants above): a transient failure does not throw away a delegation that worked.
   */
  private wellKnown(hostname: string): Promise<ServerName | undefined> {
    const cached = this.wellKnownCache.get(hostname);
    if (cached !== undefined && this.deps.now() < cached.refreshTs) return Promise.resolve(cached.delegated);
    let inFlight = this.wellKnownInFlight.get(hostname);
    if (inFlight === undefined) {
      inFlight = this.refreshWellKnown(hostname).finally(() => this.wellKnownInFlight.delete(hostname));
      this.wellKnownInFlight.set(hostname, inFlight);
    }
    return inFlight;
  }

  private async refreshWellKnown(hostname: string): Promise<ServerName | undefined> {
    const outcome = await this.fetchWellKnown(hostname);
    const now = this.deps.now();
    const lastValid = this.lastValid.get(hostname);
    const hadValid = lastValid !== undefined && now < lastValid.rememberUntilTs;
    let entry: WellKnownEntry;
    if (outcome.kind === 'valid') {
      entry = { delegated: outcome.delegated, refreshTs: now + WELL_KNOWN_REFRESH_FACTOR * outcome.lifetimeMs };
      this.remember(this.lastValid, hostname, {
        delegated: outcome.delegated,
        rememberUntilTs: now + outcome.lifetimeMs + WELL_KNOWN_REMEMBER_VALID_MS,
      });
    } else if (hadValid) {
      // Recently valid: ask again soon, and while the server may just be down, keep to the delegation that worked.
      const delegated = outcome.kind === 'unreachable' ? lastValid.delegated : undefined;
      entry = { delegated, refreshTs: now + this.jitter(WELL_KNOWN_DOWN_CACHE_MS) };
    } else {
      entry = { delegated: undefined, refreshTs: now + this.jitter(WELL_KNOWN_ERROR_CACHE_MS) };
    }
    this.remember(this.wellKnownCache, hostname, entry);
    return entry.delegated;
  }

  private async fetchWellKnown(hostname: string): Promise<WellKnownOutcome> {
    let response: FetchJsonResponse;
    try {
      response = await this.fetchFollowingRedirects(`https://${hostname}/.well-known/matrix/server`);
    } catch {
      return { kind: 'unreachable' };
    }
    if (response.status >= 500) return { kind: 'unreachable' };
    const delegated = response.status === 200 ? delegatedServerName(response.json) : undefined;
    if (delegated === undefined) return { kind: 'invalid' };
    const cacheControl = response.headers['cache-control'];
    const lifetimeMs = hasCacheLifetime(cacheControl)
      ? Math.max(cacheLifetime(cacheControl), WELL_KNOWN_MIN_CACHE_MS)
      : this.jitter(WELL_KNOWN_DEFAULT_CACHE_MS);
    return { kind: 'valid', delegated, lifetimeMs };
  }

  /** `ms`, give or take 10%. */
  private jitter(ms: number): number {
    const random = this.deps.random ?? Math.random;
    return ms * (1 - WELL_KNOWN_JITTER + 2 * WELL_KNOWN_JITTER * random());
  }

  /** "30x redirects should be followed, however redirection loops should be avoided": https only, five hops at most. */
  private async fetchFollowingRedirects(url: string): Promise<FetchJsonResponse> {
    const visited = new Set<string>();
    let current = new URL(url);
    for (;;) {
      visited.add(current.href);
      const response = await this.deps.fetchJson(current.href, { timeoutMs: this.wellKnownTimeoutMs });
      const location = response.headers.location;
      if (!REDIRECT_STATUSES.has(response.status) || location === undefined) return response;
      const next = new URL(location, current);
      if (next.protocol !== 'https:') throw new Error(`${current.href} redirects to ${next.href}, which is not https`);
      if (visited.has(next.href)) throw new Error(`${current.href} redirects in a loop`);
      if (visited.size > MAX_REDIRECTS) throw new Error(`${url} redirects more than ${MAX_REDIRECTS} times`);
      current = next;
    }
  }

  /** Sets `key` in a cache of at most maxCachedWellKnown entries, dropping the one written longest ago. */
  private remember<T>(cache: Map<string, T>, key: string, value: T): void {
    cache.delete(key);
    cache.set(key, value);
    // Maps iterate in insertion order, so the first key is the entry written longest ago.
    if (cache.size > this.maxCachedWellKnown) cache.delete(cache.keys().next().value!);
  }
}

/** `m.server` parsed with the server name grammar, or undefined when the response is invalid (step 3 says skip to step 4). */
export function delegatedServerName(json: unknown): ServerName | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const value = (json as Record<string, unknown>)['m.server'];
  if (typeof value !== 'string') return undefined;
  const parsed = parseServerName(value);
  return parsed.ok ? parsed.serverName : undefined;
}

/** Whether Cache-Control sets a lifetime (max-age, no-store or no-cache), rather than leaving it to us. */
function hasCacheLifetime(cacheControl: string | undefined): boolean {
  return cacheControl !== undefined && /(?:^|,)\s*(?:no-store|no-cache|max-age\s*=)/i.test(cacheControl);
}

/** "Servers should respect the cache control headers ... or use a sensible default": max-age, capped at 48 hours. */
export function cacheLifetime(cacheControl: string | undefined): number {
  if (cacheControl === undefined) return WELL_KNOWN_DEFAULT_CACHE_MS;
  if (/(?:^|,)\s*no-(?:store|cache)\b/i.test(cacheControl)) return 0;
  const maxAge = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl);
  if (maxAge === null) return WELL_KNOWN_DEFAULT_CACHE_MS;
  return Math.min(Number(maxAge[1]) * 1000, WELL_KNOWN_MAX_CACHE_MS);
}

/** The URL of `path` on a resolved server, e.g. `https://[2001:db8::1]:8448/_matrix/key/v2/server`. */
export function serverUrl(server: ResolvedServer, path: string): string {
  const host = server.host.includes(':') ? `[${server.host}]` : server.host;
  return `https://${host}:${server.port}${path}`;
}
