/**
 * The way to a Neo4j for npm start and the CLIs: the configured NEO4J_URI when it is set, else the project's local
 * server, started if needed. The graph is checked to answer before it is returned.
 */
import type { Config } from '../config';
import { ensureLocalNeo4j } from './local-neo4j';
import { type Graph, openGraph, verifyConnectivity } from './neo4j';

export interface Connection {
  readonly graph: Graph;
  /** The local server's Neo4j Browser URL; undefined when NEO4J_URI names the server. */
  readonly browserUrl: string | undefined;
  /** The Bolt URI connected to: NEO4J_URI, or the local server's. */
  readonly uri: string;
  close(): Promise<void>;
}

export async function connectGraph(
  settings: Config['neo4j'],
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<Connection> {
  const local = settings.uri ? undefined : await ensureLocalNeo4j(log);
  const uri = local ? local.uri : settings.uri!;
  const graph = openGraph(local ? { ...settings, uri, user: local.user, password: local.password } : { ...settings, uri });
  await verifyConnectivity(graph);
  return { graph, browserUrl: local?.browserUrl, uri, close: () => graph.driver.close() };
}
