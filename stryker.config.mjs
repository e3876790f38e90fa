// npm run test:mutation: mutates the modules the unit tests reach and runs the unit project
// against each mutant. Not part of CI (it takes long on two cores); reports/mutation/ holds the result.
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.unit.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    'lib/errors/**/*.ts',
    'lib/dsl/**/*.ts',
    'lib/graph/**/*.ts',
    'lib/serde/**/*.ts',
    'lib/state/**/*.ts',
    'lib/testing/**/*.ts',
    'lib/runtime/compile.ts',
    'lib/runtime/task.ts',
  ],
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 30_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  ignorePatterns: ['bench/java/target', 'test/golden/generator/target', 'coverage', 'reports', '.streamrun-state'],
};
