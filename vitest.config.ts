import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Temporal native bridge wants a process per test file, not worker threads.
    pool: 'forks',
    maxWorkers: 3,
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 90_000,
    // moto and dynalite accept any credentials; the SDK's default chain finds these.
    env: {
      AWS_ACCESS_KEY_ID: 'gameday-test',
      AWS_SECRET_ACCESS_KEY: 'gameday-test',
      AWS_REGION: '',
      AWS_ENDPOINT_URL: '',
    },
    hookTimeout: 60_000,
    reporters: process.env.CI ? ['default', 'junit'] : ['default'],
    outputFile: { junit: 'test-results/junit.xml' },
  },
});
