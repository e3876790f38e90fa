import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { useCleanup, type Cleanup } from './helpers/cleanup.ts';
import {
  aggregateText,
  brokers,
  createTopic,
  endOffsets,
  groupProgress,
  latestByKey,
  produce,
  readAll,
  recordCount,
  uniqueName,
  waitForCommitted,
  waitForLatest,
} from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { useRunners } from './helpers/runners.ts';
import { counter, countsOf, keyedRecords } from './helpers/topologies.ts';
import { waitFor } from './helpers/wait.ts';

async function scenario(partitions: number, cleanup: Cleanup) {
  const appId = uniqueName('count');
  const input = uniqueName('count-in');
  const output = uniqueName('count-out');
  await createTopic(input, partitions);
  const stateDir = await cleanup.tempDir('streamrun-state-');
  return {
    appId,
    input,
    output,
    stateDir,
    changelog: `${appId}-counts-changelog`,
    env: { APP_ID: appId, INPUT_TOPIC: input, OUTPUT_TOPIC: output },
    cli: ['start', 'test/e2e/fixtures/counter.ts', '--brokers', brokers(), '--state-dir', stateDir],
  };
}

/** The restore lines of the store `counts`, by partition: records restored and the changelog range. */
function restores(stderr: string): Map<number, { records: number; from: bigint; to: bigint }> {
  const lines = stderr.matchAll(/restored store counts of task 0_(\d+) \{"records":(\d+),"fromOffset":"(\d+)","toOffset":"(\d+)"/g);
  return new Map([...lines].map((m) => [Number(m[1]), { records: Number(m[2]), from: BigInt(m[3]!), to: BigInt(m[4]!) }]));
}

/** Changelog records in the given partitions (none deleted: low offsets stay 0). */
async function changelogRecords(changelog: string, partitions: readonly number[]): Promise<number> {
  const ends = await endOffsets(changelog);
  return partitions.reduce((sum, p) => sum + Number(ends.get(p) ?? 0n), 0);
}

describe('state stores with changelogs', () => {
  // Registered first, so state dirs go after the runners stopped.
  const cleanup = useCleanup();
  const startRunner = useRunners();

  it('restore: after SIGTERM and a wiped state dir, counts come back from the changelog alone and stay exact', async () => {
    const s = await scenario(2, cleanup);
    const firstHalf = keyedRecords(1000, 20);
    const secondHalf = keyedRecords(1000, 20, 1000);

    const first = runCli(s.cli, s.env);
    await produce(s.input, firstHalf);
    expect(await waitForLatest(s.output, countsOf(firstHalf))).toEqual(countsOf(firstHalf));
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    await rm(s.stateDir, { recursive: true, force: true });
    // A clean stop committed everything: the changelog holds all there is to restore.
    const changelogEnds = await endOffsets(s.changelog);
    await produce(s.input, secondHalf);
    const second = runCli(s.cli, s.env);
    try {
      const all = countsOf([...firstHalf, ...secondHalf]);
      expect(await waitForLatest(s.output, all)).toEqual(all);
      await second.waitForOutput(/restored store counts of task 0_1/);
      await second.waitForOutput(/restored store counts of task 0_0/);
      // Each task restored its whole changelog partition, from offset 0, and nothing else.
      expect(restores(second.stderr())).toEqual(
        new Map([...changelogEnds].map(([p, end]) => [p, { records: Number(end), from: 0n, to: end }])),
      );
      expect([...changelogEnds.values()].every((end) => end > 0n)).toBe(true);
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });

  it('checkpoint: a clean restart restores only the tail of the changelog, here nothing', async () => {
    const s = await scenario(2, cleanup);
    const records = keyedRecords(3000, 30);
    const first = await startRunner(counter(s.appId, s.input, s.output), { stateDir: s.stateDir, logger: collectingLogger() });
    // Six commits at least (each chunk committed before the next), so the changelog holds many records per key.
    for (let i = 0; i < records.length; i += 500) {
      await produce(s.input, records.slice(i, i + 500));
      await waitForCommitted(s.appId, [s.input]);
    }
    expect(await waitForLatest(s.output, countsOf(records))).toEqual(countsOf(records));
    await first.stop();
    // Every chunk of 500 touches all 30 keys, and each commit writes a changed key at least once.
    const changelogSize = await recordCount(s.changelog);
    expect(changelogSize).toBeGreaterThanOrEqual(6 * 30);
    expect(changelogSize).toBeLessThanOrEqual(records.length);

    const logger = collectingLogger();
    const second = await startRunner(counter(s.appId, s.input, s.output), { stateDir: s.stateDir, logger });
    await waitFor('both stores restored', () => logger.lines.filter((l) => l.includes('restored store counts')).length === 2);
    expect(second.stats().restoredRecords).toBe(0);
    expect(logger.lines.filter((l) => l.includes('restored store counts')).map((l) => /"records":(\d+)/.exec(l)?.[1])).toEqual(['0', '0']);

    const more = keyedRecords(300, 30, 3000);
    await produce(s.input, more);
    const all = countsOf([...records, ...more]);
    expect(await waitForLatest(s.output, all)).toEqual(all);
    expect(second.stats()).toMatchObject({ consumed: 300, restoredRecords: 0 });
  });

  it('crash: after SIGKILL mid-run and a restart, no count is below the truth, nor above it by more than the records since the last commit', async () => {
    const s = await scenario(2, cleanup);
    const records = keyedRecords(4000, 25);
    const first = runCli(s.cli, { ...s.env, COUNTER_BUSY_MICROS: '300' });
    await first.waitForOutput(/assigned tasks: 0_0, 0_1/);
    let seenByFirst = new Map<number, bigint>();
    for (let i = 0; i < records.length; i += 400) {
      await produce(s.input, records.slice(i, i + 400));
      if (i === 1600) {
        await waitFor('some counts', async () => (await recordCount(s.output)) > 0);
        // All the first run can have read: the records produced so far.
        seenByFirst = await endOffsets(s.input);
        first.child.kill('SIGKILL');
      }
    }
    expect(await first.exited).toBe('SIGKILL');
    // Where the restart resumes: what the first run committed before it died.
    const committed = new Map((await groupProgress(s.appId, [s.input])).map((p) => [p.partition, p.committed < 0n ? 0n : p.committed]));
    const inputs = await readAll(s.input, records.length);
    expect(inputs).toHaveLength(records.length);
    const replayed = (r: (typeof inputs)[number]) => BigInt(r.offset) >= committed.get(r.partition)!;
    const sinceCommit = (key: string) =>
      inputs.filter((r) => r.key === key && replayed(r) && BigInt(r.offset) < seenByFirst.get(r.partition)!).length;

    const second = runCli(s.cli, s.env);
    try {
      const truth = countsOf(records);
      await waitForCommitted(s.appId, [s.input]);
      const latest = await latestByKey(s.output);
      expect([...latest.keys()].sort()).toEqual([...truth.keys()].sort());
      for (const [key, n] of truth) {
        expect(Number(latest.get(key))).toBeGreaterThanOrEqual(Number(n));
        expect(Number(latest.get(key))).toBeLessThanOrEqual(Number(n) + sinceCommit(key));
      }
      // Exactly: what the changelog held when the restart restored it, plus the records it read again.
      const restored = restores(second.stderr());
      expect([...restored.keys()].sort()).toEqual([0, 1]);
      const changelog = await readAll(s.changelog, 0);
      const atRestore = new Map<string, number>();
      for (const r of changelog) if (BigInt(r.offset) < restored.get(r.partition)!.to) atRestore.set(r.key!, Number(aggregateText(r)));
      for (const key of truth.keys()) {
        const again = inputs.filter((r) => r.key === key && replayed(r)).length;
        expect([key, Number(latest.get(key))]).toEqual([key, (atRestore.get(key) ?? 0) + again]);
      }
      for (const { records: n, from, to } of restored.values()) expect(n).toBe(Number(to - from));
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
    // The restart read exactly the records after the commit.
    const consumed = Number(/stopped \{"consumed":(\d+)/.exec(second.stderr())?.[1]);
    expect(consumed).toBe(inputs.filter(replayed).length);
  });

  it('rebalance: when one of two instances stops, the other restores its tasks and counts stay exact', async () => {
    const s = await scenario(4, cleanup);
    const otherDir = await cleanup.tempDir('streamrun-state-');
    const a = await startRunner(counter(s.appId, s.input, s.output), { stateDir: s.stateDir, logger: collectingLogger() });
    const b = await startRunner(counter(s.appId, s.input, s.output), { stateDir: otherDir, logger: collectingLogger() });
    await waitFor('a 2/2 split', () => a.tasks().length === 2 && b.tasks().length === 2);

    const firstHalf = keyedRecords(2000, 40);
    await produce(s.input, firstHalf);
    expect(await waitForLatest(s.output, countsOf(firstHalf))).toEqual(countsOf(firstHalf));
    await waitForCommitted(s.appId, [s.input]);
    // Each instance read exactly the records of its own partitions.
    const partitionsOf = (tasks: string[]) => tasks.map((t) => Number(t.split('_')[1]));
    const [ofA, ofB] = [partitionsOf(a.tasks()), partitionsOf(b.tasks())];
    const firstInputs = await readAll(s.input, firstHalf.length);
    expect(b.stats().consumed).toBe(firstInputs.filter((r) => ofB.includes(r.partition)).length);
    expect(a.stats().consumed).toBe(firstInputs.filter((r) => ofA.includes(r.partition)).length);
    expect(ofB.length > 0 && b.stats().consumed > 0).toBe(true);
    await b.stop();
    // What a has to restore of b's tasks: their whole changelog partitions (a has no files of them).
    const toRestore = await changelogRecords(s.changelog, ofB);
    const restoredBefore = a.stats().restoredRecords;

    await waitFor('a to own all four tasks', () => a.tasks().length === 4);
    const secondHalf = keyedRecords(2000, 40, 2000);
    await produce(s.input, secondHalf);
    const all = countsOf([...firstHalf, ...secondHalf]);
    expect(await waitForLatest(s.output, all)).toEqual(all);
    expect(a.stats().restoredRecords - restoredBefore).toBe(toRestore);
    expect(toRestore).toBeGreaterThan(0);
  });
});
