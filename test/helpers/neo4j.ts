/**
 * The Neo4j the tests use, as chosen once per jest run by test/helpers/global-setup.ts and passed on through
 * process.env (TEST_NEO4J_URI, TEST_NEO4J_USER, TEST_NEO4J_PASSWORD, TEST_NEO4J_DATABASE). An empty user means the
 * server has authentication disabled.
 */
import neo4j, { Driver } from 'neo4j-driver';

export interface TestNeo4j {
  readonly uri: string;
  readonly user: string;
  readonly password: string;
  readonly database?: string;
}

export function testNeo4j(): TestNeo4j {
  const uri = process.env.TEST_NEO4J_URI;
  if (!uri) {
    throw new Error('No test Neo4j: TEST_NEO4J_URI is unset; run the tests with jest so test/helpers/global-setup.ts runs.');
  }
  return {
    uri,
    user: process.env.TEST_NEO4J_USER ?? '',
    password: process.env.TEST_NEO4J_PASSWORD ?? '',
    database: process.env.TEST_NEO4J_DATABASE || undefined,
  };
}

/** A neo4j-driver Driver for the test Neo4j, already checked to connect; close it in afterAll. */
export async function openTestDriver(): Promise<Driver> {
  const { uri, user, password, database } = testNeo4j();
  const driver = neo4j.driver(uri, user ? neo4j.auth.basic(user, password) : undefined);
  try {
    await driver.verifyConnectivity({ database });
  } catch (error) {
    await driver.close();
    throw error;
  }
  return driver;
}
