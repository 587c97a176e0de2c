import type { Driver } from 'neo4j-driver';
import { openTestDriver, testNeo4j } from '../helpers/neo4j';

describe('the test Neo4j chosen by global-setup', () => {
  let driver: Driver;

  beforeAll(async () => {
    driver = await openTestDriver();
  });

  afterAll(async () => {
    await driver?.close();
  });

  it('answers a query', async () => {
    const { records } = await driver.executeQuery('RETURN 1 AS x', {}, { database: testNeo4j().database });
    expect(records[0]!.get('x').toNumber()).toBe(1);
  });
});
