import { defineConfig, type TestProjectConfiguration } from 'vitest/config';
import { sourceResolution } from './vitest.source.ts';

function e2e(name: string, client: 'kafkajs' | 'kafkats', exclude: string[] = []): TestProjectConfiguration {
  return {
    ...sourceResolution,
    test: {
      name,
      include: ['test/e2e/**/*.test.ts'],
      exclude,
      sequence: { groupOrder: 1 },
      env: { STREAMRUN_CLIENT: client },
      // One real broker and one real schema registry for the whole run; each test makes its
      // own topics, groups and subjects.
      globalSetup: ['test/e2e/setup/kafka-broker.ts', 'test/e2e/setup/schema-registry.ts'],
      testTimeout: 180_000,
      hookTimeout: 180_000,
      // The broker shares two cores with the tests: one file at a time.
      fileParallelism: false,
    },
  };
}

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
        ...sourceResolution,
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
      // The whole end-to-end suite once per Kafka client, unchanged: the runner reads
      // STREAMRUN_CLIENT. The two runs go one after the other, each with a broker of its own.
      // Once, on kafkats: kafkats-boundary tests @kafkats/client's parts directly, whatever the
      // runner's client; exactly-once, so the event pipeline too (kafka-connect runs it between
      // Connect's file connectors), runs on kafkats whatever STREAMRUN_CLIENT says. Once, on
      // kafkajs: monitoring checks Prometheus, Alertmanager and their configs, and the dashboard
      // test drives a browser: no Kafka client changes either.
      e2e('e2e', 'kafkajs', [
        'test/e2e/kafkats-boundary.test.ts',
        'test/e2e/exactly-once/**',
        'test/e2e/events-*.test.ts',
        'test/e2e/kafka-connect.test.ts',
        'test/e2e/ingest-kafka-down.test.ts',
        'test/e2e/restart-availability.test.ts',
        'test/e2e/late-event-times.test.ts',
      ]),
      // The installed-package tests (packing, module systems) and the schema registry's own test
      // (its HTTP API) check no client: once is enough.
      e2e('e2e-kafkats', 'kafkats', ['test/e2e/monitoring/**', 'test/e2e/dashboard.test.ts', 'test/e2e/package/**', 'test/e2e/schema-registry.test.ts']),
    ],
  },
});
