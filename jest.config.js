// Two projects: pure unit tests (fast, no database) and integration tests that
// start a real embedded Neo4j (see test/support/global-setup.ts).
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
module.exports = {
  // Integration files mostly wait on their own JVM; two workers overlap that wait.
  maxWorkers: 2,
  // Jest force-exits a worker that is not gone 500 ms after the run (and warns). 5 s spares
  // a worker slow to exit just after stopping a JVM on a busy 2-core box. The warning
  // came from handles a file left open under load (12-03: fetch sockets with unread bodies
  // in openapi.test.ts, a linkage run left going in odd-input.test.ts: the test service's
  // stop() now stops runs as main.ts does); the integration environment names the file
  // if it comes back.
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
      // Names a file that leaves a socket, child or timer open (see the file).
      testEnvironment: '<rootDir>/test/support/handle-report-environment.ts',
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-setup.ts'],
    },
  ],
};
