/**
 * Other servers' signing keys (server-server API, "Retrieving server keys"): answered from memory, then from the
 * persistent store, then from the server's own `GET /_matrix/key/v2/server`, then from the configured notaries'
 * `POST /_matrix/key/v2/query`. The network, the store and the clock are passed in.
 *
 * Order: the server first, notaries when that fails or lacks the key. Synapse asks its notaries first (its
 * `trusted_key_servers` default to matrix.org); asking the server first keeps a notary optional and out of the
 * path of every server that answers for itself, and the notaries still cover servers that are down or have
 * forgotten a key.
 */
import { FetchJson } from './fetch-json';
import {
  checkKeyResponse,
  checkNotarySignature,
  findVerifyKey,
  KeyLookup,
  ServerKeys,
  TrustedKeyServer,
  usableUntil,
} from './key-response';
import { ResolvedServer, serverUrl } from './server-discovery';
import { isObject } from '../core/json';

export type { KeyLookup, TrustedKeyServer } from './key-response';

export interface StoredServerKeys {
  /** The key response as fetched: the server's own JSON, with a notary's signature too when it came through one. */
  readonly response: Record<string, unknown>;
  readonly fetchedTs: number;
  /** min(valid_until_ts, fetchedTs + 7 days): when the response stops being usable for current keys. */
  readonly validUntilTs: number;
}

export interface ServerKeyStore {
  load(serverName: string): Promise<StoredServerKeys | undefined>;
  save(serverName: string, keys: StoredServerKeys): Promise<void>;
}

export interface KeyFetcherLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface KeyFetcherDeps {
  /** The HTTPS client; TLS verification and the private-address policy are its settings. */
  readonly fetchJson: FetchJson;
  readonly discovery: { resolve(serverName: string): Promise<ResolvedServer> };
  readonly store: ServerKeyStore;
  readonly now: () => number;
  readonly logger?: KeyFetcherLogger;
  /** Counts for GET /metrics (src/http/metrics.ts): keys found in memory, and fetch attempts with their outcome. */
  readonly metrics?: KeyFetcherMetrics;
}

export interface KeyFetcherMetrics {
  cacheHit(): void;
  fetched(outcome: 'ok' | 'failed'): void;
}

export interface KeyFetcherOptions {
  readonly trustedKeyServers?: readonly TrustedKeyServer[];
  /** For each HTTPS request (KEY_FETCH_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  /**
   * After an attempt, how long a server is not asked again for a key it did not have or while it failed. A
   * request's key ID is chosen by whoever sends the request, so without this each request naming a made-up key
   * would make us fetch again.
   */
  readonly minRefetchIntervalMs?: number;
  /**
   * After a failed attempt (no usable answer from the server or any notary), the wait before the next: this, doubled
   * for each further failure in a row, up to maxFailureBackoffMs. A server that is down, or that an attacker keeps
   * naming, then costs us one attempt per back-off period, not one per request.
   */
  readonly failureBackoffMs?: number;
  readonly maxFailureBackoffMs?: number;
  readonly maxCachedServers?: number;
}

export interface GetVerifyKeyOptions {
  /** False for request authentication: old_verify_keys "are only valid for signing events". Default true. */
  readonly allowOldKeys?: boolean;
}

interface Known {
  readonly keys: ServerKeys;
  readonly fetchedTs: number;
}

interface Entry {
  known: Known | undefined;
  lastAttemptTs: number;
  lastFailure: string | undefined;
  /** Why the stored keys could not be read, if they could not: the entry is then dropped, to be read again. */
  storeFailure: string | undefined;
  /** Failed attempts in a row. */
  failures: number;
  loaded: Promise<void>;
  inFlight: Promise<void> | undefined;
}

type Fetched =
  | { readonly ok: true; readonly response: Record<string, unknown>; readonly keys: ServerKeys }
  | { readonly ok: false; readonly reason: string };

export class KeyFetcher {
  private readonly entries = new Map<string, Entry>();
  private readonly trustedKeyServers: readonly TrustedKeyServer[];
  private readonly timeoutMs: number;
  private readonly minRefetchIntervalMs: number;
  private readonly failureBackoffMs: number;
  private readonly maxFailureBackoffMs: number;
  private readonly maxCachedServers: number;

  constructor(
    private readonly deps: KeyFetcherDeps,
    options: KeyFetcherOptions = {},
  ) {
    this.trustedKeyServers = options.trustedKeyServers ?? [];
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.minRefetchIntervalMs = options.minRefetchIntervalMs ?? 60_000;
    this.failureBackoffMs = options.failureBackoffMs ?? 60_000;
    this.maxFailureBackoffMs = options.maxFailureBackoffMs ?? 60 * 60_000;
    this.maxCachedServers = options.maxCachedServers ?? 10_000;
  }

  /**
   * The public key `keyId` of `serverName` if it may verify a signature made at `atTs` (for a request: now), or
   * the reason it may not. Never rejects. When the stored keys cannot be read (the store is down) and the key is not
   * in memory, the answer is `unavailable` at once, with no fetch: the request cannot be served without the store
   * anyway, and a fetch that failed then would hold the server back for a whole back-off period. The next lookup
   * reads the store again.
   */
  async getVerifyKey(
    serverName: string,
    keyId: string,
    atTs: number,
    options: GetVerifyKeyOptions = {},
  ): Promise<KeyLookup> {
    const allowOldKeys = options.allowOldKeys ?? true;
    const entry = this.entry(serverName);
    await entry.loaded;
    const lookUp = () =>
      entry.known ? findVerifyKey(entry.known.keys, entry.known.fetchedTs, keyId, atTs, allowOldKeys) : undefined;

    const cached = lookUp();
    if (cached?.ok) {
      this.deps.metrics?.cacheHit();
      return cached;
    }
    if (entry.storeFailure !== undefined) {
      if (this.entries.get(serverName) === entry) this.entries.delete(serverName);
      return { ok: false, unavailable: true, reason: `the stored keys of ${serverName} cannot be read: ${entry.storeFailure}` };
    }
    // Concurrent callers share one fetch; a recent attempt is not repeated, nor one to a failing server too soon.
    if (entry.inFlight === undefined && this.deps.now() - entry.lastAttemptTs >= this.waitAfterLastAttempt(entry)) {
      entry.inFlight = this.refresh(serverName, entry, keyId, atTs).finally(() => {
        entry.inFlight = undefined;
      });
    }
    if (entry.inFlight !== undefined) await entry.inFlight;

    const found = lookUp();
    if (found?.ok) return found;
    const reasons = [found?.reason ?? `no keys of ${serverName} are known`, entry.lastFailure].filter(
      (r) => r !== undefined,
    );
    return { ok: false, reason: reasons.join('; ') };
  }

  /** How long after its last attempt a server may be asked again. */
  private waitAfterLastAttempt(entry: Entry): number {
    if (entry.failures === 0) return this.minRefetchIntervalMs;
    const backoff = Math.min(this.failureBackoffMs * 2 ** Math.min(entry.failures - 1, 52), this.maxFailureBackoffMs);
    return Math.max(this.minRefetchIntervalMs, backoff);
  }

  private entry(serverName: string): Entry {
    let entry = this.entries.get(serverName);
    if (entry === undefined) {
      const created: Entry = {
        known: undefined,
        lastAttemptTs: -Infinity,
        lastFailure: undefined,
        storeFailure: undefined,
        failures: 0,
        loaded: Promise.resolve(),
        inFlight: undefined,
      };
      created.loaded = this.loadStored(serverName, created);
      entry = created;
      this.entries.set(serverName, entry);
      // Maps iterate in insertion order: the first key is the server first seen longest ago.
      if (this.entries.size > this.maxCachedServers) this.entries.delete(this.entries.keys().next().value!);
    }
    return entry;
  }

  private async loadStored(serverName: string, entry: Entry): Promise<void> {
    let stored: StoredServerKeys | undefined;
    try {
      stored = await this.deps.store.load(serverName);
    } catch (error) {
      this.deps.logger?.warn('could not load stored server keys', { serverName, error: String(error) });
      entry.storeFailure = errorMessage(error);
      return;
    }
    if (stored === undefined) return;
    // Checked again rather than trusted, so what is used has always passed the same checks.
    const checked = checkKeyResponse(stored.response, serverName);
    if (!checked.ok) {
      this.deps.logger?.warn('ignoring stored server keys', { serverName, reason: checked.reason });
      return;
    }
    entry.known = { keys: checked.keys, fetchedTs: stored.fetchedTs };
    entry.lastAttemptTs = stored.fetchedTs;
  }

  private async refresh(serverName: string, entry: Entry, keyId: string, atTs: number): Promise<void> {
    entry.lastAttemptTs = this.deps.now();
    const failures: string[] = [];
    let chosen: (Fetched & { ok: true }) | undefined;

    const direct = await this.fetchDirect(serverName);
    if (direct.ok) chosen = direct;
    else failures.push(`fetching from ${serverName} failed: ${direct.reason}`);

    const hasKey = (fetched: Fetched & { ok: true }) =>
      findVerifyKey(fetched.keys, this.deps.now(), keyId, atTs, true).ok;
    for (const notary of this.trustedKeyServers) {
      if (chosen !== undefined && hasKey(chosen)) break;
      const relayed = await this.fetchFromNotary(notary, serverName, keyId, atTs);
      if (relayed.ok && (chosen === undefined || hasKey(relayed))) chosen = relayed;
      else if (!relayed.ok) failures.push(`asking the notary ${notary.serverName} failed: ${relayed.reason}`);
    }

    if (chosen === undefined) {
      entry.lastFailure = failures.join('; ');
      entry.failures += 1;
      this.deps.logger?.warn('could not fetch server keys', { serverName, reason: entry.lastFailure });
      this.deps.metrics?.fetched('failed');
      return;
    }
    this.deps.metrics?.fetched('ok');
    const fetchedTs = this.deps.now();
    entry.known = { keys: chosen.keys, fetchedTs };
    entry.lastFailure = undefined;
    entry.failures = 0;
    const stored: StoredServerKeys = {
      response: chosen.response,
      fetchedTs,
      validUntilTs: usableUntil(chosen.keys.validUntilTs, fetchedTs),
    };
    try {
      await this.deps.store.save(serverName, stored);
    } catch (error) {
      // The keys are good and in memory; failing the request because the cache could not be written would not help.
      this.deps.logger?.warn('could not store server keys', { serverName, error: String(error) });
    }
  }

  private async fetchDirect(serverName: string): Promise<Fetched> {
    try {
      const target = await this.deps.discovery.resolve(serverName);
      const response = await this.deps.fetchJson(serverUrl(target, '/_matrix/key/v2/server'), {
        hostHeader: target.hostHeader,
        tlsServerName: target.tlsServerName,
        timeoutMs: this.timeoutMs,
      });
      if (response.status !== 200)
        return { ok: false, reason: `GET /_matrix/key/v2/server answered HTTP ${response.status}` };
      const checked = checkKeyResponse(response.json, serverName);
      return checked.ok
        ? { ok: true, response: response.json as Record<string, unknown>, keys: checked.keys }
        : checked;
    } catch (error) {
      return { ok: false, reason: errorMessage(error) };
    }
  }

  /**
   * `POST /_matrix/key/v2/query` on a notary. Each returned response must be signed by the notary with a key from
   * our configuration and by the server itself; of those, the one with the asked key and the latest
   * valid_until_ts wins.
   */
  private async fetchFromNotary(
    notary: TrustedKeyServer,
    serverName: string,
    keyId: string,
    atTs: number,
  ): Promise<Fetched> {
    try {
      const target = await this.deps.discovery.resolve(notary.serverName);
      const response = await this.deps.fetchJson(serverUrl(target, '/_matrix/key/v2/query'), {
        method: 'POST',
        hostHeader: target.hostHeader,
        tlsServerName: target.tlsServerName,
        body: { server_keys: { [serverName]: { [keyId]: { minimum_valid_until_ts: atTs } } } },
        timeoutMs: this.timeoutMs,
      });
      if (response.status !== 200)
        return { ok: false, reason: `POST /_matrix/key/v2/query answered HTTP ${response.status}` };
      const list = isObject(response.json) ? response.json.server_keys : undefined;
      if (!Array.isArray(list)) return { ok: false, reason: 'the answer has no server_keys list' };

      const candidates: (Fetched & { ok: true })[] = [];
      const rejections: string[] = [];
      for (const item of list) {
        if (!isObject(item) || item.server_name !== serverName) continue;
        const notaryProblem = checkNotarySignature(item, notary);
        const checked =
          notaryProblem === undefined
            ? checkKeyResponse(item, serverName)
            : { ok: false as const, reason: notaryProblem };
        if (checked.ok) candidates.push({ ok: true, response: item, keys: checked.keys });
        else rejections.push(checked.reason);
      }
      const score = (c: Fetched & { ok: true }) =>
        findVerifyKey(c.keys, this.deps.now(), keyId, atTs, true).ok ? 1 : 0;
      candidates.sort((a, b) => score(b) - score(a) || b.keys.validUntilTs - a.keys.validUntilTs);
      return (
        candidates[0] ?? {
          ok: false,
          reason: rejections.length > 0 ? rejections.join('; ') : `the answer has no keys for ${serverName}`,
        }
      );
    } catch (error) {
      return { ok: false, reason: errorMessage(error) };
    }
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

