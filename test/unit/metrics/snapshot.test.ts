import { describe, expect, it } from 'vitest';
import { quantile } from '../../../lib/metrics/quantile.ts';
import { recentWindowMs, SnapshotReader } from '../../../lib/metrics/snapshot.ts';
import { latencyBoundsMs } from '../../../lib/runtime/histogram.ts';
import { runtimeMetrics } from './runtime-metrics.ts';

/** Cumulative buckets of latencies in ms over latencyBoundsMs, counted here apart from the histogram. */
function bucketsOf(latencies: readonly number[]) {
  return [...latencyBoundsMs, Infinity].map((le) => ({ le, count: latencies.filter((ms) => ms <= le).length }));
}

function percentilesOf(latencies: readonly number[]) {
  const buckets = bucketsOf(latencies);
  return { p50: quantile(0.5, buckets), p95: quantile(0.95, buckets), p99: quantile(0.99, buckets) };
}

describe('SnapshotReader', () => {
  it("sums the registry's series: counts, lag by partition, DLQ size, latency percentiles, partitions and breakers", async () => {
    const { metrics, counters } = runtimeMetrics({
      lag: async () => [
        { topic: 'in', partition: 1, value: 7 },
        { topic: 'in', partition: 0, value: 3 },
      ],
      deadLetters: async () => [{ topic: 'app-dlq', partition: 0, value: 5 }],
      breakers: () => new Map([['lookup', 2], ['store', 0]]),
      pausedPartitions: () => 1,
      assignedPartitions: () => 2,
    });
    counters.addConsumed('in', 0, 40);
    counters.addConsumed('in', 1, 60);
    counters.produced.set('out', 90).set('app-dlq', 5);
    counters.deadLetters.set('app-dlq', 5);
    counters.processingErrors.set('shout', 4);
    counters.deserializationErrors.set('source-0', 1);
    const latencies = [3, 4, 12, 20, 700];
    for (const ms of latencies) counters.latency.observe(ms);

    const snapshot = await new SnapshotReader(metrics.registry, 'app', () => 1_000).read();
    expect(snapshot).toEqual({
      appId: 'app',
      time: 1_000,
      consumed: 100,
      produced: 95,
      deadLetters: 5,
      errors: 5,
      lagTotal: 10,
      lagByPartition: [
        { topic: 'in', partition: 0, lag: 3 },
        { topic: 'in', partition: 1, lag: 7 },
      ],
      dlqRecords: 5,
      latency: percentilesOf(latencies),
      assignedPartitions: 2,
      pausedPartitions: 1,
      breakers: [
        { name: 'lookup', state: 'open' },
        { name: 'store', state: 'closed' },
      ],
      recent: null,
    });
    // rank 2.5 of 5: a quarter into the 2 in (10, 25].
    expect(snapshot.latency.p50).toBe(13.75);
  });

  it('compares each snapshot with the newest kept one at least the window old: rates, and percentiles of what came since', async () => {
    const { metrics, counters } = runtimeMetrics();
    let now = 1_000;
    const reader = new SnapshotReader(metrics.registry, 'app', () => now);
    counters.addConsumed('in', 0, 100);
    counters.latency.observe(2);
    expect((await reader.read()).recent).toBeNull();

    now = 3_000;
    counters.addConsumed('in', 0, 50);
    counters.produced.set('out', 30);
    const since = [40, 60, 300];
    for (const ms of since) counters.latency.observe(ms);
    expect((await reader.read()).recent).toEqual({ seconds: 2, consumedPerSecond: 25, producedPerSecond: 15, latency: percentilesOf(since) });

    // 6 s after the first: nothing is newer and old enough, so still compared with the first.
    now = 1_000 + recentWindowMs + 1_000;
    expect((await reader.read()).recent).toMatchObject({ seconds: 6, consumedPerSecond: 50 / 6, producedPerSecond: 5 });
    // Now the one at 3 s is old enough: the first is dropped. Nothing came since, so no latency.
    now = 9_000;
    expect((await reader.read()).recent).toEqual({ seconds: 6, consumedPerSecond: 0, producedPerSecond: 0, latency: { p50: null, p95: null, p99: null } });
    // 200 ms later: compared with the same one, and not kept (the one at 9 s stands for it).
    now = 9_200;
    expect((await reader.read()).recent).toMatchObject({ seconds: 6.2 });
    // The one at 9 s is now the newest at least 5 s old: those at 3 and 7 s are dropped.
    now = 14_100;
    expect((await reader.read()).recent).toMatchObject({ seconds: 5.1 });
  });
});
