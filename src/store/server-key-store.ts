/**
 * The key fetcher's persistent cache in Neo4j: one `(:ServerKeys {server_name})` node per server, holding the key
 * responses its keys came from (as fetched, signatures included): the latest in key_json, earlier ones that still
 * hold a key in earlier_json. A restart then does not fetch every server's keys again. fetched_ts orders two
 * instances' writes; the key fetcher never reads it as a reason not to fetch.
 */
import type { ServerKeyStore, StoredKeyResponse, StoredServerKeys } from '../federation/key-fetcher';
import { loadCypher } from './cypher-files';
import { type Graph, int, plain, readOnce, writeTx } from './neo4j';

const QUERIES = loadCypher(['server-keys-load', 'server-keys-save']);

interface Row {
  key_json: string;
  earlier_json: string | null;
  fetched_ts: number;
  valid_until_ts: number | null;
}

export class Neo4jServerKeyStore implements ServerKeyStore {
  constructor(private readonly graph: Graph) {
    graph.availability?.addWarmUp(QUERIES['server-keys-load'], { server_name: 'warm-up.invalid' });
  }

  /** On a request's path (a server's first request): one auto-commit read, failing at once when Neo4j is gone. */
  async load(serverName: string): Promise<StoredServerKeys | undefined> {
    const [found] = await readOnce(this.graph, QUERIES['server-keys-load'], { server_name: serverName });
    if (found === undefined) return undefined;
    const row = plain(found) as Row;
    return {
      response: JSON.parse(row.key_json) as Record<string, unknown>,
      fetchedTs: row.fetched_ts,
      earlier: row.earlier_json === null ? [] : parseEarlier(row.earlier_json),
      ...(row.valid_until_ts === null ? {} : { validUntilTs: row.valid_until_ts }),
    };
  }

  async save(serverName: string, keys: StoredServerKeys): Promise<void> {
    await writeTx(this.graph, (tx) =>
      tx.run(QUERIES['server-keys-save'], {
        server_name: serverName,
        key_json: JSON.stringify(keys.response),
        earlier_json: JSON.stringify((keys.earlier ?? []).map((r) => ({ fetched_ts: r.fetchedTs, response: r.response }))),
        fetched_ts: int(keys.fetchedTs),
        valid_until_ts: keys.validUntilTs === undefined ? null : int(keys.validUntilTs),
      }),
    );
  }
}

/** `earlier_json`: a list of `{fetched_ts, response}`; anything else in it is skipped (it is only a cache). */
function parseEarlier(text: string): StoredKeyResponse[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return [];
    const { fetched_ts: fetchedTs, response } = item as Record<string, unknown>;
    if (typeof fetchedTs !== 'number' || typeof response !== 'object' || response === null || Array.isArray(response)) return [];
    return [{ fetchedTs, response: response as Record<string, unknown> }];
  });
}
