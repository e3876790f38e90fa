import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { start, type Runner, type RunnerOptions, type Topology } from '../../../lib/index.ts';
import { brokers } from './kafka.ts';
import { collectingLogger } from './logger.ts';

/**
 * Returns a `start` bound to the test broker (with a quiet, collecting logger unless given one)
 * that stops, after each test, every runner it started and the test did not stop itself.
 * Runners given no `stateDir` share one temp dir (as they would share ./.streamrun-state),
 * removed after the file's tests.
 */
export function useRunners(): (topology: Topology, options?: RunnerOptions) => Promise<Runner> {
  const running = new Set<Runner>();
  let stateDir: Promise<string> | undefined;
  afterEach(async () => {
    await Promise.all([...running].map((r) => r.stop()));
    running.clear();
  });
  afterAll(async () => {
    if (stateDir !== undefined) await rm(await stateDir, { recursive: true, force: true });
  });
  return async (topology, options = {}) => {
    const dir = options.stateDir ?? (await (stateDir ??= mkdtemp(join(tmpdir(), 'streamrun-runners-'))));
    const runner = await start(topology, { brokers: brokers(), logger: collectingLogger(), ...options, stateDir: dir });
    running.add(runner);
    return runner;
  };
}
