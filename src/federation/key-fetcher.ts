/**
 * Other servers' signing keys (server-server API, "Retrieving server keys"): answered from memory, then from the
 * persistent store, then from the server's own `GET /_matrix/key/v2/server`, then from the configured notaries'
 * `POST /_matrix/key/v2/query`. The network, the store and the clock are passed in.
 *
 * Order: the server first, notaries when that fails or lacks the key. Synapse asks its notaries first (its
 * `trusted_key_servers` default to matrix.org); asking the server first keeps a notary optional and out of the
 * path of every server that answers for itself, and the notaries still cover servers that are down or have
 * forgotten a key.
 *
 * Keys are held per key ID, as Synapse's keyring holds them: each response adds its keys, and for a key ID the
 * version valid the longest wins, so an old answer (a notary's cached copy) never takes a fresher key away.
 */
import {
  checkKeyResponse,
  heldKeysOf,
  HeldKeys,
  KEY_PROBLEM_MESSAGES,
  KeyLookup,
  KeyProblem,
  lookUpHeldKey,
  mergeHeldKeys,
  TrustedKeyServer,
  usableUntil,
} from './key-response';
import { fetchKeysFromNotary, FetchedKeys, fetchOwnKeys, KeyRequestDeps, withDeadline } from './key-requests';
import { isObject } from '../core/json';

export type { KeyLookup, KeyProblem, TrustedKeyServer } from './key-response';
export { KEY_PROBLEM_MESSAGES } from './key-response';

/** A key response as fetched: the server's own JSON, with a notary's signature too when it came through one. */
export interface StoredKeyResponse {
  readonly response: Record<string, unknown>;
  readonly fetchedTs: number;
}

/**
 * What the store keeps of a server: the latest response, and the earlier ones that still hold a key the latest
 * lacks or lists as valid for less long (a key rotated out but valid for old events, a fresher key than a notary's
 * copy). Each is checked again when loaded.
 */
export interface StoredServerKeys extends StoredKeyResponse {
  readonly earlier?: readonly StoredKeyResponse[];
  /** Informational (shown in the graph): usableUntil of the latest response's valid_until_ts. */
  readonly validUntilTs?: number;
}

export interface ServerKeyStore {
  load(serverName: string): Promise<StoredServerKeys | undefined>;
  save(serverName: string, keys: StoredServerKeys): Promise<void>;
}

export interface KeyFetcherLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

/** The network (fetchJson, discovery: see key-requests.ts), the store and the clock. */
export interface KeyFetcherDeps extends KeyRequestDeps {
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
  /**
   * KEY_FETCH_TIMEOUT_MS: the budget of one attempt, from the first DNS look-up (discovery's included) to the last
   * byte of the body: the server itself gets one, and each notary asked after it one more.
   */
  readonly timeoutMs?: number;
  /**
   * The floor between two fetches of one server's keys in this process. A request naming a key ID we do not hold
   * makes us fetch at once (a server that rotated its key must not be refused), but its key ID is chosen by
   * whoever sends the request: without a floor each request naming a made-up key would make us fetch again.
   * Held in memory only, so a restart never delays a fetch.
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
  /**
   * KEY_FETCH_MAX_WAITING: how many lookups may wait on fetches at once, over all servers. Each waiting request
   * holds its body in memory; beyond this a lookup is answered `busy` at once (the caller answers 503).
   */
  readonly maxWaiting?: number;
}

export interface GetVerifyKeyOptions {
  /** False for request authentication: old_verify_keys "are only valid for signing events". Default true. */
  readonly allowOldKeys?: boolean;
}

interface Entry {
  keys: HeldKeys<StoredKeyResponse>;
  /** When this process last started a fetch of the server's keys; never read from the store. */
  lastFetchTs: number;
  /** Why the last fetch failed, undefined when it succeeded or none was made. */
  lastFailure: string | undefined;
  /** Why the stored keys could not be read, if they could not: the entry is then dropped, to be read again. */
  storeFailure: string | undefined;
  /** Failed fetches in a row. */
  failures: number;
  loaded: Promise<void>;
  inFlight: Promise<void> | undefined;
}

export class KeyFetcher {
  private readonly entries = new Map<string, Entry>();
  private readonly trustedKeyServers: readonly TrustedKeyServer[];
  private readonly timeoutMs: number;
  private readonly minRefetchIntervalMs: number;
  private readonly failureBackoffMs: number;
  private readonly maxFailureBackoffMs: number;
  private readonly maxCachedServers: number;
  private readonly maxWaiting: number;
  private waiting = 0;

  constructor(
    private readonly deps: KeyFetcherDeps,
    options: KeyFetcherOptions = {},
  ) {
    this.trustedKeyServers = options.trustedKeyServers ?? [];
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.minRefetchIntervalMs = options.minRefetchIntervalMs ?? 5_000;
    this.failureBackoffMs = options.failureBackoffMs ?? 60_000;
    this.maxFailureBackoffMs = options.maxFailureBackoffMs ?? 60 * 60_000;
    this.maxCachedServers = options.maxCachedServers ?? 10_000;
    this.maxWaiting = options.maxWaiting ?? 32;
  }

  /**
   * The public key `keyId` of `serverName` if it may verify a signature made at `atTs` (for a request: now), or
   * why it may not. Never rejects, and settles within the fetch budgets. A key we do not hold (or no longer valid)
   * is fetched at once, one fetch per server at a time shared by every caller, unless the server was asked within
   * minRefetchIntervalMs or is failing (back-off). When the stored keys cannot be read (the store is down) and the
   * key is not in memory, the answer is `store-unavailable` at once, with no fetch: the request cannot be served
   * without the store anyway, and a fetch that failed then would hold the server back for a whole back-off period.
   * The next lookup reads the store again.
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
    const lookUp = () => lookUpHeldKey(entry.keys, serverName, keyId, atTs, allowOldKeys);

    const cached = lookUp();
    if (cached.ok) {
      this.deps.metrics?.cacheHit();
      return cached;
    }
    if (entry.storeFailure !== undefined) {
      if (this.entries.get(serverName) === entry) this.entries.delete(serverName);
      return problem('store-unavailable', `the stored keys of ${serverName} cannot be read: ${entry.storeFailure}`);
    }
    if (entry.inFlight === undefined && this.deps.now() - entry.lastFetchTs >= this.waitAfterLastFetch(entry)) {
      if (this.waiting >= this.maxWaiting) return this.busy(serverName);
      entry.inFlight = this.refresh(serverName, entry, keyId, atTs).finally(() => {
        entry.inFlight = undefined;
      });
    }
    if (entry.inFlight !== undefined) {
      if (this.waiting >= this.maxWaiting) return this.busy(serverName);
      this.waiting += 1;
      try {
        await entry.inFlight;
      } finally {
        this.waiting -= 1;
      }
    }

    const found = lookUp();
    if (found.ok) return found;
    return entry.lastFailure === undefined
      ? problem('unknown-key', found.reason)
      : problem('keys-unavailable', `${found.reason}; ${entry.lastFailure}`);
  }

  private busy(serverName: string): KeyLookup {
    return problem('busy', `${this.maxWaiting} lookups already wait on key fetches; not waiting for ${serverName}'s`);
  }

  /** How long after its last fetch a server may be asked again. */
  private waitAfterLastFetch(entry: Entry): number {
    if (entry.failures === 0) return this.minRefetchIntervalMs;
    const backoff = Math.min(this.failureBackoffMs * 2 ** Math.min(entry.failures - 1, 52), this.maxFailureBackoffMs);
    return Math.max(this.minRefetchIntervalMs, backoff);
  }

  private entry(serverName: string): Entry {
    let entry = this.entries.get(serverName);
    if (entry === undefined) {
      const created: Entry = {
        keys: new Map(),
        lastFetchTs: -Infinity,
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
    const responses = stored === undefined ? [] : [...(stored.earlier ?? []), { response: stored.response, fetchedTs: stored.fetchedTs }];
    for (const source of responses) {
      // Checked again rather than trusted, so what is used has always passed the same checks.
      const checked = checkKeyResponse(source.response, serverName);
      if (!checked.ok) {
        this.deps.logger?.warn('ignoring stored server keys', { serverName, reason: checked.reason });
        continue;
      }
      entry.keys = mergeHeldKeys(entry.keys, heldKeysOf(checked.keys, source.fetchedTs, source));
    }
  }

  private async refresh(serverName: string, entry: Entry, keyId: string, atTs: number): Promise<void> {
    entry.lastFetchTs = this.deps.now();
    const failures: string[] = [];
    let answered = false;
    const add = (fetched: FetchedKeys & { ok: true }) => {
      answered = true;
      const fetchedTs = this.deps.now();
      for (const { response, keys } of fetched.responses)
        entry.keys = mergeHeldKeys(entry.keys, heldKeysOf(keys, fetchedTs, { response, fetchedTs }));
    };
    const hasKey = () => lookUpHeldKey(entry.keys, serverName, keyId, atTs, true).ok;

    const direct = await fetchOwnKeys(this.deps, serverName, this.timeoutMs);
    if (direct.ok) add(direct);
    else failures.push(`fetching from ${serverName} failed: ${direct.reason}`);

    for (const notary of this.trustedKeyServers) {
      if (hasKey()) break;
      const relayed = await fetchKeysFromNotary(this.deps, notary, serverName, keyId, atTs, this.timeoutMs);
      if (relayed.ok) add(relayed);
      else failures.push(`asking the notary ${notary.serverName} failed: ${relayed.reason}`);
    }

    if (!answered) {
      entry.lastFailure = failures.join('; ');
      entry.failures += 1;
      // Info, not warn: whoever sends us a request chooses the server, so these are the caller's doing, not ours.
      this.deps.logger?.info('could not fetch server keys', { serverName, keyId, reason: entry.lastFailure });
      this.deps.metrics?.fetched('failed');
      return;
    }
    this.deps.metrics?.fetched('ok');
    entry.lastFailure = undefined;
    entry.failures = 0;
    try {
      await withDeadline(this.deps.store.save(serverName, toStore(entry.keys)), this.timeoutMs, 'storing the keys');
    } catch (error) {
      // The keys are good and in memory; failing the request because the cache could not be written would not help.
      this.deps.logger?.warn('could not store server keys', { serverName, error: String(error) });
    }
  }
}

/** The responses the held keys came from, the latest first among equals. */
function toStore(keys: HeldKeys<StoredKeyResponse>): StoredServerKeys {
  const sources = [...new Set([...keys.values()].map((key) => key.source))].sort((a, b) => b.fetchedTs - a.fetchedTs);
  const [latest, ...earlier] = sources as [StoredKeyResponse, ...StoredKeyResponse[]];
  const validUntilTs = isObject(latest.response) && typeof latest.response.valid_until_ts === 'number'
    ? usableUntil(latest.response.valid_until_ts, latest.fetchedTs)
    : undefined;
  return { ...latest, earlier, validUntilTs };
}

function problem(kind: KeyProblem, reason: string): KeyLookup {
  const message = KEY_PROBLEM_MESSAGES[kind];
  return kind === 'store-unavailable' || kind === 'busy'
    ? { ok: false, problem: kind, message, reason, unavailable: true }
    : { ok: false, problem: kind, message, reason };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
