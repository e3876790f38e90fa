import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { serdes, topology, tumbling, type Runner } from '../../lib/index.ts';
import { brokers, createTopic, produce, uniqueName, waitForCommitted, waitForEndsToSettle } from './helpers/kafka.ts';
import { countCommitted } from './helpers/kcat.ts';
import { parseSamples, samplesOf, sumOf } from './helpers/prometheus-text.ts';
import { useRunners } from './helpers/runners.ts';
import { counter, keyedRecords } from './helpers/topologies.ts';

// A recent hour: the broker's retention deletes records timestamped long ago.
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const partitions = 3;
const perPartition = 100;
const windowMs = 10_000;

/** Partition p's i-th record: every 25th is poison, every 10th from the 20th on is 20 s behind. */
function recordAt(p: number, i: number) {
  const behind = i >= 20 && i % 10 === 5;
  return { key: `k${p}-${i % 7}`, value: i % 25 === 7 ? 'poison' : `v${i}`, timestamp: base + (behind ? i - 20 : i) * 1000 };
}

/** Late records, from the data alone: a window is closed once stream time reached its end (no grace). */
function lateRecords(): number {
  let late = 0;
  for (let p = 0; p < partitions; p++) {
    let streamTime = -Infinity;
    for (let i = 0; i < perPartition; i++) {
      const { timestamp } = recordAt(p, i);
      streamTime = Math.max(streamTime, timestamp);
      const windowEnd = Math.floor(timestamp / windowMs) * windowMs + windowMs;
      if (windowEnd <= streamTime) late++;
    }
  }
  return late;
}

async function scrape(runner: Runner) {
  const response = await fetch(`${runner.httpUrl}/metrics`);
  expect([response.status, response.headers.get('content-type')]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
  return parseSamples(await response.text());
}

const run = promisify(execFile);

/** `<stateDir>/<appId>/<task>/<store>` of every task that has the store. */
async function storeDirs(stateDir: string, appId: string, store: string): Promise<string[]> {
  const tasks = await readdir(join(stateDir, appId), { withFileTypes: true });
  const dirs = tasks.filter((t) => t.isDirectory()).map((t) => join(stateDir, appId, t.name, store));
  const present = await Promise.all(dirs.map((d) => readdir(d).then(() => d, () => undefined)));
  return present.filter((d) => d !== undefined);
}

describe('GET /metrics', () => {
  const startRunner = useRunners();

  it('counts what a known run did: consumed, produced by topic, dead letters and DLQ size, errors, late records; lag 0 once caught up', async () => {
    const input = uniqueName('metrics-in');
    const mapped = `${input}-mapped`;
    const counts = `${input}-counts`;
    await createTopic(input, partitions);
    // Waiting before the runner starts, as a backlog would.
    for (let p = 0; p < partitions; p++) {
      await produce(
        input,
        Array.from({ length: perPartition }, (_, i) => {
          const r = recordAt(p, i);
          return { key: r.key, value: r.value, partition: p, timestamp: String(r.timestamp) };
        }),
      );
    }
    const app = topology(uniqueName('metrics'));
    const text = { key: serdes.string, value: serdes.string };
    const stream = app.stream(input, text);
    stream
      .mapValues(
        (v) => {
          if (v === 'poison') throw new Error('poison');
          return v.toUpperCase();
        },
        { name: 'shout' },
      )
      .to(mapped, text);
    stream
      .groupByKey()
      .windowedBy(tumbling(windowMs).grace(0))
      .count({ name: 'counts' })
      .toStream()
      .mapValues(String)
      .to(counts, { key: serdes.json(), value: serdes.string });
    const stateDir = await mkdtemp(join(tmpdir(), 'streamrun-metrics-'));
    onTestFinished(() => rm(stateDir, { recursive: true, force: true }));
    const runner = await startRunner(app, { port: 0, errors: { retries: 0 }, stateDir });
    await waitForCommitted(runner.appId, [input]);
    const dlq = `${runner.appId}-dlq`;
    for (const topic of [mapped, counts, dlq]) await waitForEndsToSettle(topic);

    // The store's files as find (a reader nobody here wrote) sizes them, on both sides of a
    // scrape that LevelDB did not compact across.
    const dirs = await storeDirs(stateDir, runner.appId, 'counts');
    expect(dirs).toHaveLength(partitions);
    const storeBytes = async () => {
      const { stdout } = await run('find', [...dirs, '-type', 'f', '-printf', '%s\n']);
      return stdout.trim().split('\n').reduce((sum, size) => sum + Number(size), 0);
    };
    let samples: Awaited<ReturnType<typeof scrape>>;
    let onDisk: number;
    for (;;) {
      onDisk = await storeBytes();
      samples = await scrape(runner);
      if ((await storeBytes()) === onDisk) break;
    }
    const total = partitions * perPartition;
    const poison = partitions * Array.from({ length: perPartition }, (_, i) => i).filter((i) => i % 25 === 7).length;
    const late = lateRecords();
    expect([poison, late]).toEqual([12, 24]);
    const app_ = { app: runner.appId };

    for (let p = 0; p < partitions; p++) {
      expect(sumOf(samples, 'streamrun_records_consumed_total', { ...app_, topic: input, partition: String(p) })).toBe(perPartition);
    }
    // Produced, as kcat (a reader nobody here wrote) counts each topic.
    const [inMapped, inCounts, inDlq] = await Promise.all([mapped, counts, dlq].map((t) => countCommitted(brokers(), t)));
    expect([inMapped, inDlq]).toEqual([total - poison, poison]);
    expect(sumOf(samples, 'streamrun_records_produced_total', { topic: mapped })).toBe(inMapped);
    expect(sumOf(samples, 'streamrun_records_produced_total', { topic: counts })).toBe(inCounts);
    expect(sumOf(samples, 'streamrun_records_produced_total', { topic: dlq })).toBe(inDlq);
    expect(sumOf(samples, 'streamrun_dead_letters_total', { topic: dlq })).toBe(poison);
    expect(sumOf(samples, 'streamrun_dlq_records', { topic: dlq })).toBe(inDlq);
    expect(samplesOf(samples, 'streamrun_errors_total').map((s) => [s.labels, s.value])).toEqual([[{ ...app_, node: 'shout', kind: 'processing' }, poison]]);
    expect(sumOf(samples, 'streamrun_late_records_total', { node: 'counts' })).toBe(late);
    expect(sumOf(samples, 'streamrun_retries_total')).toBe(0);
    // Caught up: every partition it owns, none behind.
    expect(samplesOf(samples, 'streamrun_consumer_lag_records', { topic: input }).map((s) => [s.labels.partition, s.value])).toEqual([
      ['0', 0],
      ['1', 0],
      ['2', 0],
    ]);
    expect(sumOf(samples, 'streamrun_assigned_partitions')).toBe(partitions);
    // Every record's latency was observed once its chunk was acknowledged.
    expect(sumOf(samples, 'streamrun_end_to_end_latency_seconds_count')).toBe(total);
    expect(sumOf(samples, 'streamrun_end_to_end_latency_seconds_bucket', { le: '+Inf' })).toBe(total);
    // At least one batch per partition; at most one per record, and one more per poison record tried alone.
    const batches = sumOf(samples, 'streamrun_batch_duration_seconds_count');
    expect(batches).toBeGreaterThanOrEqual(partitions);
    expect(batches).toBeLessThanOrEqual(total + poison);
    expect(sumOf(samples, 'streamrun_store_size_bytes', { store: 'counts' })).toBe(onDisk);
    expect(samplesOf(samples, 'process_cpu_seconds_total', app_)).toHaveLength(1);
    // The scrape before this one is counted, by its route.
    const again = await scrape(runner);
    expect(sumOf(again, 'streamrun_http_requests_total', { route: '/metrics', method: 'GET', status: '200' })).toBe(1);
    expect(runner.stats()).toMatchObject({ consumed: total, deadLettered: poison, lateRecords: late, processingErrors: poison });
  });

  it('counts a restore: every changelog record read back, nothing left to restore once the tasks run', async () => {
    const input = uniqueName('metrics-restore-in');
    const appId = uniqueName('metrics-restore');
    await createTopic(input, 2);
    await produce(input, keyedRecords(2_000, 50));
    const app = counter(appId, input, `${input}-out`);
    const first = await startRunner(app, { appId });
    await waitForCommitted(appId, [input]);
    await first.stop();
    // A fresh state dir: the store comes back from its changelog alone.
    const stateDir = await mkdtemp(join(tmpdir(), 'streamrun-metrics-restore-'));
    try {
      const again = await startRunner(app, { appId, stateDir, port: 0 });
      await waitForCommitted(appId, [input]);
      const changelog = await countCommitted(brokers(), `${appId}-counts-changelog`);
      // At least each key's last count.
      expect(changelog).toBeGreaterThanOrEqual(50);
      const samples = await scrape(again);
      expect(sumOf(samples, 'streamrun_restored_records_total', { store: 'counts' })).toBe(changelog);
      expect(samplesOf(samples, 'streamrun_restore_remaining_records', { store: 'counts' }).map((s) => s.value)).toEqual([0]);
      expect(again.stats().restoredRecords).toBe(changelog);
      await again.stop();
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
