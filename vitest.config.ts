import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/types/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // One real broker for the whole run; each test makes its own topics and groups.
          globalSetup: ['test/e2e/setup/kafka-broker.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // The broker shares two cores with the tests: one file at a time keeps timings sane.
          fileParallelism: false,
        },
      },
    ],
  },
});
