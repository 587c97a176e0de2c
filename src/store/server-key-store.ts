/**
 * The key fetcher's persistent cache in Neo4j: one `(:ServerKeys {server_name})` node per server, holding the
 * whole key response as JSON, so a restart does not fetch every server's keys again.
 */
import type { ServerKeyStore, StoredServerKeys } from '../federation/key-fetcher';
import { loadCypher } from './cypher-files';
import { type Graph, int, readTx, rows, writeTx } from './neo4j';

const QUERIES = loadCypher(['server-keys-load', 'server-keys-save']);

interface Row {
  key_json: string;
  fetched_ts: number;
  valid_until_ts: number;
}

export class Neo4jServerKeyStore implements ServerKeyStore {
  constructor(private readonly graph: Graph) {}

  async load(serverName: string): Promise<StoredServerKeys | undefined> {
    const [row] = await readTx(this.graph, (tx) =>
      rows<Row>(tx, QUERIES['server-keys-load'], { server_name: serverName }),
    );
    if (row === undefined) return undefined;
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
