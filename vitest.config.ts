import { defineConfig } from 'vitest/config';

/**
 * Two tiers (README "Testing"): `unit` needs no tool binary and no server, and runs in seconds on a
 * fresh clone (`npm run test:unit`); `servers` is the integration and e2e tests, against the real
 * servers test/global-setup.ts starts once. A test goes where what it needs is, not by folder.
 */
export default defineConfig({
  test: {
    // The Temporal native bridge wants a process per test file, not worker threads.
    pool: 'forks',
    maxWorkers: 3,
    // moto and dynalite accept any credentials; the SDK's default chain finds these.
    env: {
      AWS_ACCESS_KEY_ID: 'gameday-test',
      AWS_SECRET_ACCESS_KEY: 'gameday-test',
      AWS_REGION: '',
      AWS_ENDPOINT_URL: '',
    },
    reporters: process.env.CI ? ['default', 'junit'] : ['default'],
    outputFile: { junit: 'test-results/junit.xml' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Bundling the workflows for the replay takes seconds on a busy machine.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'servers',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/contract/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          setupFiles: ['test/setup/processes.ts'],
          // Only the outer bound: tests wait on conditions, and every wait gives up on its own
          // before this, after test/patience.ts's PATIENCE_MS, saying what it waited for.
          testTimeout: 15 * 60_000,
          hookTimeout: 5 * 60_000,
        },
      },
    ],
  },
});
