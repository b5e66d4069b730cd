// Two projects: pure unit tests (fast, no database) and integration tests that
// start a real embedded Neo4j (see test/support/global-setup.ts).
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
module.exports = {
  // Integration files mostly wait on their own JVM; two workers overlap that wait.
  maxWorkers: 2,
  // Jest force-exits a worker that is not gone 500 ms after the run (and warns). On this
  // 2-core box a worker that has just stopped a JVM was once slower than that (12-03) with
  // no open handle found in its last suite; a handle that lives on still gets the warning.
  workerGracefulExitTimeout: 5000,
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-setup.ts'],
    },
  ],
};
