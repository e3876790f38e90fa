import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {  } from '../../lib/index.ts';
import { runCli } from './helpers/cli.ts';
import { brokers, createTopic, produce, recordCount, uniqueName, waitForLatest, latestByKey } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { useRunners } from './helpers/runners.ts';
import { counter, countsOf, keyedRecords } from './helpers/topologies.ts';
import { waitFor } from './helpers/wait.ts';

async function scenario(partitions: number) {
  const appId = uniqueName('count');
  const input = uniqueName('count-in');
  const output = uniqueName('count-out');
  await createTopic(input, partitions);
  const stateDir = await mkdtemp(join(tmpdir(), 'streamrun-state-'));
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

function restoredRecords(stderr: string): number {
  return [...stderr.matchAll(/restored store counts of task \S+ \{"records":(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe('state stores with changelogs', () => {
  const startRunner = useRunners();

  it('restore: after SIGTERM and a wiped state dir, counts come back from the changelog alone and stay exact', async () => {
    const s = await scenario(2);
    const firstHalf = keyedRecords(1000, 20);
    const secondHalf = keyedRecords(1000, 20, 1000);

    const first = runCli(s.cli, s.env);
    await produce(s.input, firstHalf);
    expect(await waitForLatest(s.output, countsOf(firstHalf))).toEqual(countsOf(firstHalf));
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    await rm(s.stateDir, { recursive: true, force: true });
    await produce(s.input, secondHalf);
    const second = runCli(s.cli, s.env);
    try {
      const all = countsOf([...firstHalf, ...secondHalf]);
      expect(await waitForLatest(s.output, all)).toEqual(all);
      await second.waitForOutput(/restored store counts of task 0_1/);
      expect(restoredRecords(second.stderr())).toBeGreaterThan(0);
      expect(second.stderr()).toMatch(/restored store counts of task 0_0 \{"records":\d+,"fromOffset":"0"/);
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });

  it('checkpoint: a clean restart restores only the tail of the changelog, here nothing', async () => {
    const s = await scenario(2);
    const records = keyedRecords(3000, 30);
    const first = await startRunner(counter(s.appId, s.input, s.output), { stateDir: s.stateDir, logger: collectingLogger() });
    // Several commits, so the changelog holds many records per key.
    for (let i = 0; i < records.length; i += 500) {
      await produce(s.input, records.slice(i, i + 500));
      await sleep(100);
    }
    expect(await waitForLatest(s.output, countsOf(records))).toEqual(countsOf(records));
    await first.stop();
    const changelogSize = await recordCount(s.changelog);
    expect(changelogSize).toBeGreaterThan(60);

    const logger = collectingLogger();
    const second = await startRunner(counter(s.appId, s.input, s.output), { stateDir: s.stateDir, logger });
    await waitFor('both stores restored', () => logger.lines.filter((l) => l.includes('restored store counts')).length === 2);
    expect(second.stats().restoredRecords).toBe(0);

    const more = keyedRecords(300, 30, 3000);
    await produce(s.input, more);
    const all = countsOf([...records, ...more]);
    expect(await waitForLatest(s.output, all)).toEqual(all);
  });

  it('crash: after SIGKILL mid-run and a restart, no count is below the truth', async () => {
    const s = await scenario(2);
    const records = keyedRecords(4000, 25);
    const first = runCli(s.cli, { ...s.env, COUNTER_BUSY_MICROS: '300' });
    await first.waitForOutput(/assigned tasks: 0_0, 0_1/);
    for (let i = 0; i < records.length; i += 400) {
      await produce(s.input, records.slice(i, i + 400));
      if (i === 1600) {
        await waitFor('some counts', async () => (await recordCount(s.output)) > 0);
        first.child.kill('SIGKILL');
      }
    }
    expect(await first.exited).toBe('SIGKILL');

    const second = runCli(s.cli, s.env);
    try {
      const truth = countsOf(records);
      let latest = new Map<string, string>();
      await waitFor(
        'every count to reach the truth',
        async () => {
          latest = await latestByKey(s.output);
          return [...truth].every(([k, n]) => Number(latest.get(k) ?? 0) >= Number(n));
        },
        { intervalMs: 500 },
      );
      for (const [key, n] of truth) expect(Number(latest.get(key))).toBeGreaterThanOrEqual(Number(n));
      expect(latest.size).toBe(truth.size);
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });

  it('rebalance: when one of two instances stops, the other restores its tasks and counts stay exact', async () => {
    const s = await scenario(4);
    const otherDir = await mkdtemp(join(tmpdir(), 'streamrun-state-'));
    const a = await startRunner(counter(s.appId, s.input, s.output), { stateDir: s.stateDir, logger: collectingLogger() });
    const b = await startRunner(counter(s.appId, s.input, s.output), { stateDir: otherDir, logger: collectingLogger() });
    await waitFor('a 2/2 split', () => a.tasks().length === 2 && b.tasks().length === 2);

    const firstHalf = keyedRecords(2000, 40);
    await produce(s.input, firstHalf);
    expect(await waitForLatest(s.output, countsOf(firstHalf))).toEqual(countsOf(firstHalf));
    expect(b.stats().consumed).toBeGreaterThan(0);
    await b.stop();

    await waitFor('a to own all four tasks', () => a.tasks().length === 4);
    const secondHalf = keyedRecords(2000, 40, 2000);
    await produce(s.input, secondHalf);
    const all = countsOf([...firstHalf, ...secondHalf]);
    expect(await waitForLatest(s.output, all)).toEqual(all);
    expect(a.stats().restoredRecords).toBeGreaterThan(0);
  });
});
