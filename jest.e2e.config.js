/**
 * npm run test:e2e: the deployment "Beside Synapse" end to end. Two real Synapses (the test:synapse harness),
 * Debian's nginx in front of one with deploy/nginx/, and MaxTryX as its own process; hs-b catches up through us.
 * The same throw-away Neo4j as npm test.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/e2e'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  // Synapses start, stop and catch up several times (and the first run installs matrix-synapse): minutes, not seconds.
  testTimeout: 600000,
};
