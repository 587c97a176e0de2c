/**
 * npm run test:browser: Neo4j Browser driven in Debian's Chromium (/usr/bin/chromium, through playwright-core) against
 * the project's own Neo4j as `npm run neo4j:start` configures it (style, guide, no authentication), in a throw-away
 * home on free ports. It always uses that server, whatever NEO4J_URI says: the Browser setup is what is tested.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/browser'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/browser/global-setup.ts',
  globalTeardown: '<rootDir>/test/browser/global-teardown.ts',
  testTimeout: 120000,
};
