import { describe, expect, it } from 'vitest';
import { serdes, topology, type Runner } from '../../lib/index.ts';
import { committedOffsets } from './helpers/claims.ts';
import { createTopic, produce, readAll, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

describe('maxBufferedOutputs', () => {
  const startRunner = useRunners();

  /**
   * Runs 1,000 records that are all in the topic before the runner starts (so batches are large)
   * through a topology writing `perRecord` outputs per record, and notes before each record how
   * many outputs wait unacknowledged: records seen so far × perRecord − what the commits sent.
   */
  async function waitingOutputs(maxBufferedOutputs: number | undefined, perRecord: number) {
    const input = uniqueName('buffer-in');
    const output = uniqueName('buffer-out');
    await createTopic(input, 1);
    await produce(input, Array.from({ length: 1000 }, (_, i) => ({ key: 'k', value: String(i) })));
    const waiting: number[] = [];
    let runner: Runner | undefined;
    let seen = 0;
    const appId = uniqueName('buffer');
    runner = await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .peek(() => {
          waiting.push(seen * perRecord - runner!.stats().produced);
          seen++;
        })
        .flatMapValues((v) => Array.from({ length: perRecord }, (_, i) => `${v}.${i}`))
        .to(output),
      maxBufferedOutputs === undefined ? {} : { maxBufferedOutputs },
    );
    const out = await readAll(output, 1000 * perRecord);
    expect(out.map((r) => r.value)).toEqual(Array.from({ length: 1000 * perRecord }, (_, i) => `${Math.floor(i / perRecord)}.${i % perRecord}`));
    await waitFor('the last commit', async () => (await committedOffsets(appId, input))[0] === 1000);
    return { waiting, stats: runner.stats() };
  }

  it('a task commits once that many outputs wait, even in the middle of a batch', async () => {
    const { waiting, stats } = await waitingOutputs(10, 1);
    expect(waiting).toHaveLength(1000);
    // Never 10 or more waiting when a record comes; 9 is reached (a batch holds more than 10).
    expect(Math.max(...waiting)).toBe(9);
    // At least one commit per 10 records.
    expect(stats.commits).toBeGreaterThanOrEqual(100);
    expect(stats.produced).toBe(1000);
  });

  it('a record with several outputs may take the buffer past the bound, but the next record waits for a commit', async () => {
    // 4 outputs a record, bound 10: after 3 records 12 wait, and the task commits before the 4th.
    const { waiting, stats } = await waitingOutputs(10, 4);
    expect(Math.max(...waiting)).toBe(8);
    expect(new Set(waiting.filter((w) => w > 0))).toEqual(new Set([4, 8]));
    expect(stats.produced).toBe(4000);
  });

  it('by default (10,000) a batch of 1,000 single outputs is committed in far fewer commits', async () => {
    const { waiting } = await waitingOutputs(undefined, 1);
    // Whatever the batches were, more than 10 outputs waited at some point.
    expect(Math.max(...waiting)).toBeGreaterThan(9);
  });
});
