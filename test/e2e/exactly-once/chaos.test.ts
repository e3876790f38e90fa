import { describe, expect, it } from 'vitest';
import { runChaos, type ChaosPlan, type ChaosResult } from '../helpers/chaos.ts';
import { useCluster } from '../helpers/cluster.ts';
import { withAdmin } from '../helpers/kafka.ts';

/**
 * SIGKILLs of `streamrun start` at random moments, mid-batch, under a steady input: exactly-once
 * must end with every output exactly as the input alone says (each record mapped once, each count
 * and window update once, finals exact), and at-least-once must be caught doubling records by the
 * same checker, or the checker proves nothing.
 */
const plan: ChaosPlan = {
  guarantee: 'exactly-once',
  records: 50_000,
  keys: 200,
  partitions: 4,
  minKills: 10,
  produceOverMs: 90_000,
  busyMicros: 200,
};

function expectExact(result: ChaosResult, { abortedSeen = true } = {}): void {
  const { verdict } = result;
  expect(result.kills.length).toBeGreaterThanOrEqual(10);
  for (const [name, check] of Object.entries({ mapped: verdict.mapped, counts: verdict.counts, windows: verdict.windows })) {
    expect({ name, duplicates: check.duplicates, unexpected: check.unexpected, missing: check.missing, finalsWrong: check.finalsWrong, examples: check.examples }).toEqual({
      name,
      duplicates: 0,
      unexpected: 0,
      missing: 0,
      finalsWrong: 0,
      examples: [],
    });
    expect(check.seen, name).toBe(check.expected);
  }
  expect(verdict.mapped.expected).toBe(verdict.inputRecords);
  expect(Object.entries(result.markers).filter(([, v]) => v === 'stuck')).toEqual([]);
  // The kills landed mid-transaction: aborted writes are in the log, and no reader above saw them.
  // On 3 brokers with both cores busy the runner may have been restoring or waiting at every
  // kill (seen once): there it is only reported.
  if (abortedSeen) expect(result.mappedUncommitted).toBeGreaterThan(verdict.mapped.seen);
  else expect(result.mappedUncommitted).toBeGreaterThanOrEqual(verdict.mapped.seen);
}

describe('chaos on one broker', () => {
  it('exactly-once: ≥10 SIGKILLs, nothing lost or doubled in any output', { timeout: 360_000 }, async () => {
    const result = await runChaos(plan);
    expectExact(result);
    expect(result.verdict.inputRecords).toBe(plan.records);
  });

  // As many kills as above: with a few only (tried: 5 over 30 s, both cores busy), every one
  // can land while the runner restarts, and nothing is doubled.
  it('at-least-once: the same kills, and the checker sees records doubled', { timeout: 360_000 }, async () => {
    const result = await runChaos({ ...plan, guarantee: 'at-least-once' });
    expect(result.kills.length).toBeGreaterThanOrEqual(10);
    // Replays after a kill: records mapped again, and counted again (counts past a key's total).
    expect(result.verdict.mapped.duplicates).toBeGreaterThan(0);
    expect(result.verdict.counts.duplicates + result.verdict.counts.unexpected).toBeGreaterThan(0);
    // At least once: nothing missing.
    expect(result.verdict.mapped.missing).toBe(0);
    expect(Object.entries(result.markers).filter(([, v]) => v === 'stuck')).toEqual([]);
  });
});

describe('chaos on a 3-broker cluster', () => {
  const cluster = useCluster(3);

  it('exactly-once: SIGKILLs of the runner, and of a broker restarted 20 s later, nothing lost or doubled', { timeout: 420_000 }, async () => {
    const nodes = cluster();
    const result = await runChaos({
      ...plan,
      replicationFactor: 3,
      // The runner's kills go on while broker 2 is down: runners start without it, and lose
      // their transactions' coordinator or partitions' leaders when it was one.
      disruptions: [
        { atMs: 30_000, label: 'SIGKILL of broker 2', run: () => nodes.kill(2) },
        { atMs: 50_000, label: 'restart of broker 2', run: () => nodes.start(2) },
      ],
    });
    expectExact(result, { abortedSeen: false });
    // Every topic of the run kept three copies (the input as created here, the runner's own
    // because the cluster has three brokers), and so did the transaction log (kafka.sh's default).
    const replicas = await withAdmin(async (admin) => {
      const names = (await admin.listTopics()).filter((t) => t.startsWith(result.appId) || t === '__transaction_state');
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      return Object.fromEntries(topics.map((t) => [t.name, [...new Set(t.partitions.map((p) => p.replicas.length))]]));
    });
    expect(Object.keys(replicas).length).toBeGreaterThanOrEqual(8);
    expect(Object.entries(replicas).filter(([, counts]) => counts.join() !== '3')).toEqual([]);
  });
});
