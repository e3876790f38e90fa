import { describe, expect, it } from 'vitest';
import { committedOffsets } from './helpers/claims.ts';
import { useCleanup } from './helpers/cleanup.ts';
import { runCli } from './helpers/cli.ts';
import { aggregateText, brokers, createTopic, produce, readAll, recordCount, uniqueName, waitForCommitted, waitForLatest } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
import { tmpfs } from './helpers/tmpfs.ts';
import { counter, countsOf, keyedRecords } from './helpers/topologies.ts';

/** Lines a run printed that say something failed: the logger's errors and the CLI's own. */
const failureLines = (stderr: string) => stderr.split('\n').filter((l) => /ERROR|^streamrun:/.test(l));

describe('a state directory that cannot be written', () => {
  // Registered first, so it runs after the runners stopped: then nothing holds the mounts.
  const cleanup = useCleanup();
  const startRunner = useRunners();
  /** `streamrun <args>`, stopped after the test if it still runs. */
  const cli = (args: readonly string[], env: Record<string, string>) => {
    const run = runCli(args, env);
    cleanup.defer(async () => {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
      await run.exited;
    });
    return run;
  };

  it('read-only at start: start() rejects with STATE_DIR naming it, before it reaches Kafka', async () => {
    const dir = await tmpfs(cleanup, { size: '1m', readOnly: true });
    const appId = uniqueName('ro');
    const started = Date.now();
    await expect(startRunner(counter(appId, uniqueName('ro-in'), uniqueName('ro-out')), { stateDir: dir })).rejects.toMatchObject({
      code: 'STATE_DIR',
      message: expect.stringMatching(new RegExp(`^state directory ${dir} is not writable: EROFS: read-only file system`)),
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('read-only at start: the CLI prints one line naming it and exits 1', async () => {
    const dir = await tmpfs(cleanup, { size: '1m', readOnly: true });
    const env = { APP_ID: uniqueName('ro-cli'), INPUT_TOPIC: uniqueName('ro-in'), OUTPUT_TOPIC: uniqueName('ro-out') };
    const run = cli(['start', 'test/e2e/fixtures/counter.ts', '--brokers', brokers(), '--state-dir', dir], env);
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^streamrun: state directory ${dir} is not writable: EROFS`))]);
  });

  it('full while running: one error, exit 1, offsets no further than the changelog, and a restart elsewhere counts exactly', async () => {
    const dir = await tmpfs(cleanup, { size: '1m' });
    const appId = uniqueName('full');
    const input = uniqueName('full-in');
    const output = uniqueName('full-out');
    const changelog = `${appId}-counts-changelog`;
    await createTopic(input, 3);
    const env = { APP_ID: appId, INPUT_TOPIC: input, OUTPUT_TOPIC: output };
    const args = ['start', 'test/e2e/fixtures/counter.ts', '--brokers', brokers()];
    const first = cli([...args, '--state-dir', dir], env);
    await first.waitForOutput(/assigned tasks: 0_0, 0_1, 0_2/);
    const fits = keyedRecords(3000, 300);
    await produce(input, fits);
    await waitForCommitted(appId, [input]);
    // Keys of 200 bytes, each new: every commit adds ~40 kB to the stores' write-ahead logs,
    // which stay below the 4 MB LevelDB flushes them at, so the 1 MB disk runs out.
    const long = 'x'.repeat(200);
    const overflow = Array.from({ length: 30_000 }, (_, i) => ({ key: `${long}-${i}`, value: `record ${i}` }));
    await produce(input, overflow);
    expect(await first.exited).toBe(1);
    const failures = failureLines(first.stderr());
    expect(failures).toEqual([expect.stringMatching(new RegExp(`^streamrun: no space left for state in ${dir}/${appId}/0_[012]: `))]);
    expect(failures[0]).toMatch(/No space left on device|ENOSPC/);

    // What the group committed is at most what the changelog holds, partition by partition.
    const committed = await committedOffsets(appId, input);
    const durable = [0, 0, 0];
    const counts = new Map<string, { partition: number; count: number }>();
    for (const r of await readAll(changelog, await recordCount(changelog))) counts.set(r.key!, { partition: r.partition, count: Number(aggregateText(r)) });
    for (const { partition, count } of counts.values()) durable[partition]! += count;
    for (const p of [0, 1, 2]) expect(committed[p]).toBeLessThanOrEqual(durable[p]!);
    expect(committed.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(fits.length);
    expect(committed.reduce((a, b) => a + b, 0)).toBeLessThan(fits.length + overflow.length);

    // A roomy state dir: restored from the changelog, the rest read from the committed offsets.
    const roomy = await cleanup.tempDir('streamrun-roomy-');
    const second = cli([...args, '--state-dir', roomy], env);
    await waitForCommitted(appId, [input]);
    const truth = countsOf([...fits, ...overflow]);
    expect(await waitForLatest(output, truth)).toEqual(truth);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
