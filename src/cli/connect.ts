/**
 * The CLIs' way to a Neo4j: NEO4J_URI when it is set, else the project's local server, started if needed.
 */
import { loadConfig } from '../config';
import { type Graph, openGraph, verifyConnectivity } from '../store/neo4j';
import { ensureLocalNeo4j } from '../store/local-neo4j';

export async function connectGraph(env: NodeJS.ProcessEnv = process.env): Promise<{ graph: Graph; close: () => Promise<void> }> {
  const config = loadConfig(env);
  const settings = config.neo4j.uri ? config.neo4j : { ...config.neo4j, ...(await ensureLocalNeo4j()) };
  const graph = openGraph(settings as { uri: string });
  await verifyConnectivity(graph);
  return { graph, close: () => graph.driver.close() };
}
