import { describe, expect, it } from 'vitest';
import { committedOffsets, useStateDirs } from './helpers/claims.ts';
import { createTopic, produce, readAll, uniqueName } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { useRunners } from './helpers/runners.ts';
import { counter, countsOf, keyedRecords } from './helpers/topologies.ts';
import { waitFor } from './helpers/wait.ts';

describe('a partition revoked in the middle of a chunk', () => {
  const startRunner = useRunners();
  const stateDir = useStateDirs();

  it('when a second runner joins mid-batch: nothing lost, nothing counted twice, every count emitted once', async () => {
    const appId = uniqueName('revoke');
    const input = uniqueName('revoke-in');
    const output = uniqueName('revoke-out');
    await createTopic(input, 4);
    const records = keyedRecords(8000, 40);
    // All in the topic before the first runner starts: its batches are large, and at 1 ms of
    // CPU a record each takes 8 s, so the second runner joins while one is in flight. Chunks
    // of 50 records (maxBufferedOutputs) let the first runner notice the rebalance between
    // two chunks of a batch, so the revocation lands in the middle of it.
    await produce(input, records);
    const options = async () => ({ stateDir: await stateDir(), logger: collectingLogger(), maxBufferedOutputs: 50 });
    const a = await startRunner(counter(appId, input, output, 1000), await options());
    await waitFor('the first runner to be well into its batches', () => a.stats().consumed >= 300, { intervalMs: 10 });
    const midBatch = a.stats().consumed;
    const b = await startRunner(counter(appId, input, output, 1000), await options());
    await waitFor('a 2/2 split', () => a.tasks().length === 2 && b.tasks().length === 2);
    expect([...a.tasks(), ...b.tasks()].sort()).toEqual(['0_0', '0_1', '0_2', '0_3']);

    await waitFor('every offset committed', async () => (await committedOffsets(appId, input)).reduce((x, y) => x + y, 0) === 8000, {
      timeoutMs: 120_000,
    });
    expect(midBatch).toBeLessThan(8000);
    const truth = countsOf(records);
    const outputs = await readAll(output, 8000);
    // Each key's counts in the order they were written: 1, 2, …, n, none repeated, none missing.
    const perKey = new Map<string, number[]>();
    for (const r of outputs) perKey.set(r.key!, [...(perKey.get(r.key!) ?? []), JSON.parse(r.value!) as number]);
    expect(perKey.size).toBe(truth.size);
    for (const [key, n] of truth) expect(perKey.get(key)).toEqual(Array.from({ length: Number(n) }, (_, i) => i + 1));
    expect(outputs).toHaveLength(8000);
    // The second runner did take partitions over from the first.
    expect(b.stats().consumed).toBeGreaterThan(0);
    // Records the first runner had processed in the revoked chunk were processed again by the second.
    expect(a.stats().consumed + b.stats().consumed).toBeGreaterThanOrEqual(8000);
    // What was sent was sent once: nothing of a revoked chunk went out.
    expect(a.stats().produced + b.stats().produced).toBe(8000);
  });
});

