import { Metrics, type MetricsSource } from '../../../lib/metrics/instruments.ts';
import { Counters } from '../../../lib/runtime/stats.ts';

/**
 * The real instruments over counters a test fills in, as the runtime would, and answers that
 * stand in for the broker (lag, DLQ sizes) and for the runner's tasks and breakers.
 */
export function runtimeMetrics(answers: Partial<Omit<MetricsSource, 'counters'>> = {}): { metrics: Metrics; counters: Counters } {
  const counters = new Counters();
  const metrics = new Metrics({
    appId: 'app',
    counters,
    lag: async () => [],
    deadLetters: async () => [],
    storeBytes: async () => new Map(),
    breakers: () => new Map(),
    pausedPartitions: () => 0,
    assignedPartitions: () => 0,
    ...answers,
  });
  return { metrics, counters };
}
