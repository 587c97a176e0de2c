/**
 * npm run test:synapse: rooms made by a real Synapse (installed from PyPI into .synapse/venv), imported from its
 * database and compared with what Synapse stored and serves. The same throw-away Neo4j as npm test.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/synapse'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  // The first run installs matrix-synapse into a virtualenv (about a minute); later runs reuse it.
  testTimeout: 600000,
};
