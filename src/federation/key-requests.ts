/**
 * Asking for a server's keys over the network (server-server API, "Retrieving server keys"): the server's own
 * `GET /_matrix/key/v2/server`, or a notary's `POST /_matrix/key/v2/query`. Each attempt has one time budget, from
 * discovery (`.well-known`, SRV) to the last byte of the answer, and settles within it whatever happens: the key
 * fetcher's in-flight fetch of a server, which every waiting request shares, must always end. Never rejects.
 */
import { FetchJson } from './fetch-json';
import { checkKeyResponse, checkNotarySignature, ServerKeys, TrustedKeyServer } from './key-response';
import { ResolvedServer, serverUrl } from './server-discovery';
import { isObject } from '../core/json';

export interface KeyRequestDeps {
  /** The HTTPS client; TLS verification and the private-address policy are its settings. */
  readonly fetchJson: FetchJson;
  readonly discovery: { resolve(serverName: string): Promise<ResolvedServer> };
}

/** Checked key responses of the server (each signed by it, and by the notary when relayed), or why there are none. */
export type FetchedKeys =
  | { readonly ok: true; readonly responses: readonly { readonly response: Record<string, unknown>; readonly keys: ServerKeys }[] }
  | { readonly ok: false; readonly reason: string };

/**
 * The attempt keeps to its budget itself (the HTTPS client's timer gets what discovery left); the deadline around it,
 * a little later so that the attempt's own and more precise error wins, is for whatever else might hang.
 */
const DEADLINE_GRACE_MS = 50;

/** `GET /_matrix/key/v2/server` on the server itself, within `budgetMs`. */
export function fetchOwnKeys(deps: KeyRequestDeps, serverName: string, budgetMs: number): Promise<FetchedKeys> {
  return withinBudget(serverName, budgetMs, async () => {
    const started = performance.now();
    const target = await deps.discovery.resolve(serverName);
    const response = await deps.fetchJson(serverUrl(target, '/_matrix/key/v2/server'), {
      hostHeader: target.hostHeader,
      tlsServerName: target.tlsServerName,
      timeoutMs: remaining(budgetMs, started),
    });
    if (response.status !== 200) return { ok: false, reason: `GET /_matrix/key/v2/server answered HTTP ${response.status}` };
    const checked = checkKeyResponse(response.json, serverName);
    return checked.ok ? { ok: true, responses: [{ response: response.json as Record<string, unknown>, keys: checked.keys }] } : checked;
  });
}

/**
 * `POST /_matrix/key/v2/query` on a notary, within `budgetMs`. Each returned response must be signed by the notary
 * with a key from our configuration and by the server itself; all such responses are returned, the key fetcher
 * keeping for each key ID the version valid the longest.
 */
export function fetchKeysFromNotary(
  deps: KeyRequestDeps,
  notary: TrustedKeyServer,
  serverName: string,
  keyId: string,
  atTs: number,
  budgetMs: number,
): Promise<FetchedKeys> {
  return withinBudget(notary.serverName, budgetMs, async () => {
    const started = performance.now();
    const target = await deps.discovery.resolve(notary.serverName);
    const response = await deps.fetchJson(serverUrl(target, '/_matrix/key/v2/query'), {
      method: 'POST',
      hostHeader: target.hostHeader,
      tlsServerName: target.tlsServerName,
      body: { server_keys: { [serverName]: { [keyId]: { minimum_valid_until_ts: atTs } } } },
      timeoutMs: remaining(budgetMs, started),
    });
    if (response.status !== 200) return { ok: false, reason: `POST /_matrix/key/v2/query answered HTTP ${response.status}` };
    const list = isObject(response.json) ? response.json.server_keys : undefined;
    if (!Array.isArray(list)) return { ok: false, reason: 'the answer has no server_keys list' };

    const accepted: { response: Record<string, unknown>; keys: ServerKeys }[] = [];
    const rejections: string[] = [];
    for (const item of list) {
      if (!isObject(item) || item.server_name !== serverName) continue;
      const notaryProblem = checkNotarySignature(item, notary);
      const checked = notaryProblem === undefined ? checkKeyResponse(item, serverName) : { ok: false as const, reason: notaryProblem };
      if (checked.ok) accepted.push({ response: item, keys: checked.keys });
      else rejections.push(checked.reason);
    }
    if (accepted.length > 0) return { ok: true, responses: accepted };
    return { ok: false, reason: rejections.length > 0 ? rejections.join('; ') : `the answer has no keys for ${serverName}` };
  });
}

/** Runs one attempt under a deadline, and turns whatever it throws into a reason. */
async function withinBudget(server: string, budgetMs: number, attempt: () => Promise<FetchedKeys>): Promise<FetchedKeys> {
  try {
    return await withDeadline(attempt(), budgetMs + DEADLINE_GRACE_MS, `asking ${server}`);
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** Settles within `ms` whatever `promise` does. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * What is left of a budget of `budgetMs` started at `started` (performance.now(): real time, not the key fetcher's
 * injected clock, which says what keys are valid); at least 1 ms, so a late start still fails cleanly.
 */
function remaining(budgetMs: number, started: number): number {
  return Math.max(1, Math.ceil(budgetMs - (performance.now() - started)));
}
