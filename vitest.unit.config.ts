import { defineProject } from 'vitest/config';
import { sourceResolution } from './vitest.source.ts';

/** The unit project: no broker. Also the one StrykerJS mutates against (stryker.config.mjs). */
export default defineProject({
  ...sourceResolution,
  test: {
    name: 'unit',
    // The examples' own tests run their topologies in the TopologyTestDriver: no broker either.
    include: ['test/unit/**/*.test.ts', 'test/types/**/*.test.ts', 'examples/**/*.test.ts'],
    // Unit tests finish before the broker starts: they share two cores with nothing else.
    sequence: { groupOrder: 0 },
    // PGlite's initdb takes seconds on a busy machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
