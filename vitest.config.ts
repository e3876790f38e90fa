import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    coverage: {
      provider: 'v8',
      include: ['lib/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
    },
    projects: [
      'vitest.unit.config.ts',
      {
        test: {
          name: 'conformance',
          include: ['test/conformance/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          // Kafka Streams' own output for every case, computed once with Java before the tests.
          globalSetup: ['test/conformance/kafka-streams-twin.ts'],
          testTimeout: 60_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          // One real broker for the whole run; each test makes its own topics and groups.
          globalSetup: ['test/e2e/setup/kafka-broker.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // The broker shares two cores with the tests: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
