import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../../lib/index.ts';
import { committedOffsets } from '../helpers/claims.ts';
import { runCli } from '../helpers/cli.ts';
import { brokers, createTopic, endOffsets, produce, uniqueName, waitForCommitted } from '../helpers/kafka.ts';
import { readCommittedWithKcat, type KcatRecord } from '../helpers/kcat.ts';
import { counterRun, type CounterRun } from '../helpers/counter-run.ts';
import { useRunners } from '../helpers/runners.ts';
import { counter, keyedRecords } from '../helpers/topologies.ts';
import { waitFor } from '../helpers/wait.ts';

const start = useRunners();

/** Each key's counts in the order they were written: exactly once means 1, 2, …, n. */
function countsByKey(records: readonly KcatRecord[]): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  for (const r of [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    byKey.set(r.key!, [...(byKey.get(r.key!) ?? []), Number(r.payload)]);
  }
  return byKey;
}

function expectEachCountOnce(records: readonly KcatRecord[], sent: readonly { key: string }[]): void {
  const truth = new Map<string, number>();
  for (const r of sent) truth.set(r.key, (truth.get(r.key) ?? 0) + 1);
  const counts = countsByKey(records);
  expect([...counts.keys()].sort()).toEqual([...truth.keys()].sort());
  for (const [key, n] of truth) expect(counts.get(key), key).toEqual(Array.from({ length: n }, (_, i) => i + 1));
}

/** The counter fixture exactly-once on the CLI, as a user runs it. */
function counterCli(run: CounterRun, stateDir: string, env: Record<string, string> = {}) {
  const args = ['start', 'test/e2e/fixtures/counter.ts', '--state-dir', stateDir, '--guarantee', 'exactly-once', '--session-timeout', '6000'];
  return runCli(args, { ...run.env, ...env });
}

describe('exactly-once', () => {
  it('writes every count once and commits the input offsets with them', async () => {
    const { appId, input, output } = await counterRun('eos', 4);
    const records = keyedRecords(4_000, 40);
    await produce(input, records.slice(0, 2_000));
    const runner = await start(counter(appId, input, output), { appId, processing: 'exactly-once', sourcePartitions: 4 });
    await produce(input, records.slice(2_000));
    await waitForCommitted(appId, [input]);
    expectEachCountOnce(await readCommittedWithKcat(output), records);
    const ends = await endOffsets(input);
    expect(await committedOffsets(appId, input)).toEqual([0, 1, 2, 3].map((p) => Number(ends.get(p))));
    expect(runner.stats().transactions).toBeGreaterThan(0);
    expect(runner.stats().aborts).toBe(0);
  });

  it('leaves nothing of a record that threw halfway: its first outputs never show, its dead letter does once', async () => {
    const input = uniqueName('eos-abort-in');
    const output = `${input}-out`;
    const appId = uniqueName('eos-abort');
    await createTopic(input, 2);
    await createTopic(output, 2);
    const app = topology(appId);
    const records$ = app.stream(input, { key: serdes.string, value: serdes.string });
    // Counted first, so the poisoned record's count is one of the things that must not show.
    records$.groupByKey().count({ name: 'counts' }).toStream().to(`${output}-counts`, { value: serdes.json<number>() });
    records$
      // Three outputs per record; the second of the poisoned record throws after the first went out.
      .flatMapValues((v) => [`${v}/a`, `${v}/b`, `${v}/c`])
      .mapValues((v) => {
        if (v === 'poison/b') throw new Error('poisoned');
        return v;
      })
      .to(output);
    const records = Array.from({ length: 600 }, (_, i) => ({ key: `k${i % 6}`, value: i === 300 ? 'poison' : `r${i}` }));
    await produce(input, records);
    const runner = await start(app, {
      appId,
      processing: 'exactly-once',
      errors: { retries: 2, backoff: { initialMs: 10 } },
      // Small chunks in a long transaction: the chunks before the poisoned one are sent but not
      // committed when the task starts afresh, and its counts must still hold them.
      maxBufferedOutputs: 40,
      commitIntervalMs: 5_000,
    });
    await waitForCommitted(appId, [input]);
    const written = (await readCommittedWithKcat(output)).map((r) => r.payload);
    const expected = records.filter((r) => r.value !== 'poison').flatMap((r) => [`${r.value}/a`, `${r.value}/b`, `${r.value}/c`]);
    expect(written.length).toBe(expected.length);
    expect(new Set(written)).toEqual(new Set(expected));
    expectEachCountOnce(await readCommittedWithKcat(`${output}-counts`), records.filter((r) => r.value !== 'poison'));
    const dead = await readCommittedWithKcat(`${appId}-dlq`);
    expect(dead.map((r) => r.payload)).toEqual(['poison']);
    // The dead-letter tools read past the transaction markers to the end, on either client.
    for (const client of ['kafkajs', 'kafkats']) {
      const inspect = runCli(['dlq', 'inspect', `${appId}-dlq`, '--json', '--brokers', brokers(), '--client', client]);
      expect(await inspect.exited, client).toBe(0);
      expect(inspect.stdout().trim().split('\n').map((line) => (JSON.parse(line) as { value: string }).value), client).toEqual(['poison']);
    }
    // The first try and both retries each started from the last commit, alone.
    expect(runner.stats().retries).toBe(2);
    expect(runner.stats().deadLettered).toBe(1);
  });

  it('refuses a second runner on the state dir another one uses, naming the process that holds it', async () => {
    const input = uniqueName('eos-lock-in');
    const appId = uniqueName('eos-lock');
    await createTopic(input, 1);
    const stateDir = await mkdtemp(join(tmpdir(), 'streamrun-eos-lock-'));
    try {
      const options = { appId, processing: 'exactly-once', stateDir } as const;
      const first = await start(counter(appId, input, `${input}-out`), options);
      // The same transactional id twice would fence one with the other, back and forth.
      await expect(start(counter(appId, input, `${input}-out`), options)).rejects.toThrow(
        `state dir of ${appId}: ${join(stateDir, appId)} is in use by process ${process.pid}`,
      );
      await first.stop();
      // Released at stop: the next one takes it, with the same process id.
      const id = await readFile(join(stateDir, appId, 'process-id'), 'utf8');
      await (await start(counter(appId, input, `${input}-out`), options)).stop();
      expect(await readFile(join(stateDir, appId, 'process-id'), 'utf8')).toBe(id);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  describe('a crash between two steps of a commit, then a restart, ends with every count once', () => {
    for (const point of ['after-send', 'after-offsets', 'before-commit', 'after-commit'] as const) {
      it(point, async () => {
        const run = await counterRun(`eos-${point}`, 4);
        const { appId, input, output } = run;
        const records = keyedRecords(3_000, 30);
        // Waiting before the runner starts: the crash comes with the first commits.
        await produce(input, records.slice(0, 2_000));
        const stateDir = `/tmp/${uniqueName('eos-crash-state')}`;
        const busy = { COUNTER_BUSY_MICROS: '500' };
        try {
          const crashing = counterCli(run, stateDir, { ...busy, STREAMRUN_CRASH_AT: `${point}:2` });
          expect(await crashing.exited).toBe('SIGKILL');
          expect(crashing.stderr()).toContain(`crashing at ${point}`);
          const again = counterCli(run, stateDir, busy);
          await again.waitForOutput(/running/);
          await produce(input, records.slice(2_000));
          await waitForCommitted(appId, [input]);
          expectEachCountOnce(await readCommittedWithKcat(output), records);
          again.child.kill('SIGTERM');
          expect(await again.exited).toBe(0);
        } finally {
          await rm(stateDir, { recursive: true, force: true });
        }
      });
    }

    it('during-restore', async () => {
      const run = await counterRun('eos-restore', 2);
      const { appId, input, output } = run;
      const records = keyedRecords(3_000, 30);
      await produce(input, records.slice(0, 1_500));
      const dirs = [`/tmp/${uniqueName('eos-restore-a')}`, `/tmp/${uniqueName('eos-restore-b')}`];
      try {
        const first = counterCli(run, dirs[0]!);
        await first.waitForOutput(/running/);
        await waitForCommitted(appId, [input]);
        first.child.kill('SIGTERM');
        expect(await first.exited).toBe(0);
        // A fresh state dir restores everything from the changelogs: the crash comes mid-restore.
        const crashing = counterCli(run, dirs[1]!, { STREAMRUN_CRASH_AT: 'during-restore' });
        expect(await crashing.exited).toBe('SIGKILL');
        expect(crashing.stderr()).toContain('crashing at during-restore');
        const again = counterCli(run, dirs[1]!);
        await again.waitForOutput(/running/);
        await produce(input, records.slice(1_500));
        await waitForCommitted(appId, [input]);
        await waitFor('the last counts are readable', async () => (await readCommittedWithKcat(output)).length >= records.length);
        expectEachCountOnce(await readCommittedWithKcat(output), records);
        again.child.kill('SIGTERM');
        expect(await again.exited).toBe(0);
      } finally {
        await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
      }
    });
  });
});
