/**
 * The key fetcher's persistent cache in Neo4j: one `(:ServerKeys {server_name})` node per server, holding the
 * whole key response as JSON, so a restart does not fetch every server's keys again.
 */
import type { ServerKeyStore, StoredServerKeys } from '../federation/key-fetcher';
import { loadCypher } from './cypher-files';
import { type Graph, int, plain, readOnce, writeTx } from './neo4j';

const QUERIES = loadCypher(['server-keys-load', 'server-keys-save']);

interface Row {
  key_json: string;
  fetched_ts: number;
  valid_until_ts: number;
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
      validUntilTs: row.valid_until_ts,
    };
  }

  async save(serverName: string, keys: StoredServerKeys): Promise<void> {
    await writeTx(this.graph, (tx) =>
      tx.run(QUERIES['server-keys-save'], {
        server_name: serverName,
        key_json: JSON.stringify(keys.response),
        fetched_ts: int(keys.fetchedTs),
        valid_until_ts: int(keys.validUntilTs),
      }),
    );
  }
}
