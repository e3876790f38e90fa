import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';

export interface Cleanup {
  /** Runs `fn` after the test (or the file, for `useCleanup('all')`), passed or failed; the last added runs first. */
  defer(fn: () => unknown): void;
  /** A fresh directory under the system's temp dir, removed afterwards. */
  tempDir(prefix: string): Promise<string>;
}

/**
 * What a test leaves behind (state dirs, databases, roles, groups) is removed after each test
 * (or after the file's tests), even when it failed. Every step runs; the first error is thrown
 * afterwards, so a cleanup that fails is seen.
 */
export function useCleanup(scope: 'each' | 'all' = 'each'): Cleanup {
  let steps: (() => unknown)[] = [];
  (scope === 'each' ? afterEach : afterAll)(async () => {
    const now = steps.reverse();
    steps = [];
    const errors: unknown[] = [];
    for (const step of now) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return {
    defer: (fn) => void steps.push(fn),
    async tempDir(prefix) {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      steps.push(() => rm(dir, { recursive: true, force: true }));
      return dir;
    },
  };
}
