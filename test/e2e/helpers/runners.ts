import { afterEach } from 'vitest';
import { start, type Runner, type RunnerOptions, type Topology } from '../../../lib/index.ts';
import { brokers } from './kafka.ts';
import { collectingLogger } from './logger.ts';

/**
 * Returns a `start` bound to the test broker (with a quiet, collecting logger unless given one)
 * that stops, after each test, every runner it started and the test did not stop itself.
 */
export function useRunners(): (topology: Topology, options?: RunnerOptions) => Promise<Runner> {
  const running = new Set<Runner>();
  afterEach(async () => {
    await Promise.all([...running].map((r) => r.stop()));
    running.clear();
  });
  return async (topology, options = {}) => {
    const runner = await start(topology, { brokers: brokers(), logger: collectingLogger(), ...options });
    running.add(runner);
    return runner;
  };
}
