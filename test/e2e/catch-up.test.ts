import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { javaTwinCommand } from '../../bench/lib/java-twin.ts';
import { startProcessor } from '../../bench/lib/processes.ts';
import { hopping, serdes, topology } from '../../lib/index.ts';
import { brokers, createTopic, produce, readAllSettled, uniqueName, type ReadRecord } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';

const PARTITIONS = 4;
const VIEWS = 20_000;
const REGIONS = ['eu', 'us', 'apac', 'latam', 'mena'];
const SIZE = 30_000;
const ADVANCE = 10_000;
const GRACE = 5_000;
// A recent hour: the broker's retention would delete records with timestamps from 1970.
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;

interface View {
  readonly partition: number;
  readonly user: string;
  readonly region: string;
  readonly timestamp: number;
}

/**
 * Page views over 4 partitions, 40 ms apart per partition, each up to 4 s out of order (within
 * the 5 s grace, so none is late in its own partition), from a seeded generator.
 */
function pageViews(): View[] {
  let seed = 20_240_601;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const views: View[] = [];
  for (let i = 0; i < VIEWS; i++) {
    const user = `user-${Math.floor(random() * 500)}`;
    views.push({
      partition: i % PARTITIONS,
      user,
      region: REGIONS[Math.floor(random() * REGIONS.length)]!,
      timestamp: base + Math.floor(i / PARTITIONS) * 40 - Math.floor(random() * 4_000),
    });
  }
  return views;
}

/** The truth, computed from the data alone: views per region and hopping window. */
function truth(views: readonly View[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const view of views) {
    const first = Math.floor((view.timestamp - SIZE) / ADVANCE) * ADVANCE + ADVANCE;
    for (let start = first; start <= view.timestamp; start += ADVANCE) {
      const id = `${view.region}@${start - base}`;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

describe('catching up on a backlog through a repartition topic', () => {
  const startRunner = useRunners();
  const views = pageViews();
  const expected = truth(views);

  /** The backlog, then one view per partition an hour later, which closes every window of the data set. */
  const messages = [
    ...views.map((v) => ({ partition: v.partition, key: v.user, value: v.region, timestamp: String(v.timestamp) })),
    ...[0, 1, 2, 3].map((partition) => ({ partition, key: 'closer', value: 'zz', timestamp: String(base + 3_600_000) })),
  ];
  const produceAll = async (input: string) => {
    await produce(input, messages.slice(0, VIEWS));
    await produce(input, messages.slice(VIEWS));
  };

  /** Final counts by `region@start`, each window once. */
  const countsOf = (results: readonly ReadRecord[]) => {
    const counts = new Map<string, number>();
    for (const r of results) {
      const window = JSON.parse(r.key!) as { key: string; start: number; end: number };
      expect(window.end - window.start).toBe(SIZE);
      const id = `${window.key}@${window.start - base}`;
      expect(counts.has(id), `one final result per window: ${id}`).toBe(false);
      counts.set(id, Number(r.value));
    }
    return counts;
  };

  const viewsPerRegion = (appId: string, input: string, output: string) => {
    const app = topology(appId);
    app
      .stream(input, { key: serdes.string, value: serdes.string })
      .groupBy((region) => region, { key: serdes.string })
      .windowedBy(hopping(SIZE, ADVANCE).grace(GRACE))
      .count({ name: 'views-per-region', emit: 'final' })
      .toStream()
      .mapValues(String)
      .to(output, { key: serdes.json(), value: serdes.string });
    return app;
  };

  const run = async (backlogFirst: boolean) => {
    const input = uniqueName('views');
    const output = `${input}-per-region`;
    await createTopic(input, PARTITIONS);
    const app = viewsPerRegion(uniqueName('catch-up'), input, output);
    if (backlogFirst) await produceAll(input);
    const runner = await startRunner(app, { sourcePartitions: PARTITIONS });
    if (!backlogFirst) await produceAll(input);

    const results = await readAllSettled(output, { group: runner.appId, inputs: [input], timeoutMs: 150_000 });
    return { counts: countsOf(results), late: runner.stats().lateRecords };
  };

  it('20,000 views produced before the runner starts: every window equals the truth, none dropped as late', async () => {
    const { counts, late } = await run(true);
    expect(late).toBe(0);
    expect(counts.size).toBe(expected.size);
    expect(counts).toEqual(expected);
  });

  it('the same views produced after the runner started give the same results', async () => {
    const { counts, late } = await run(false);
    expect(late).toBe(0);
    expect(counts).toEqual(expected);
  });

  it('a restart halfway, with the second half waiting, gives the same results: the windows restored, nothing late', async () => {
    const input = uniqueName('views-restart');
    const output = `${input}-per-region`;
    await createTopic(input, PARTITIONS);
    const appId = uniqueName('catch-up-restart');
    const half = VIEWS / 2;
    await produce(input, messages.slice(0, half));
    const first = await startRunner(viewsPerRegion(appId, input, output), { sourcePartitions: PARTITIONS });
    await readAllSettled(output, { group: appId, inputs: [input], timeoutMs: 150_000 });
    await first.stop();
    await produce(input, messages.slice(half));
    const second = await startRunner(viewsPerRegion(appId, input, output), { sourcePartitions: PARTITIONS });
    const counts = countsOf(await readAllSettled(output, { group: appId, inputs: [input], timeoutMs: 150_000 }));
    expect(first.stats().lateRecords + second.stats().lateRecords).toBe(0);
    expect(counts).toEqual(expected);
  });

  it('Kafka Streams 4.4 on the same backlog (bench/java, catch-up mode) never counts more than the truth; what it drops is reported', async () => {
    const input = uniqueName('views-ks');
    const output = `${input}-per-region`;
    const group = uniqueName('catch-up-ks');
    await createTopic(input, PARTITIONS);
    await createTopic(output, PARTITIONS);
    await produceAll(input);
    const stateDir = await mkdtemp(join(tmpdir(), 'catch-up-ks-'));
    const { command, args } = await javaTwinCommand('catch-up', () => {});
    const env = { BENCH_BROKERS: brokers(), BENCH_INPUT: input, BENCH_OUTPUT: output, BENCH_GROUP: group, BENCH_STATE_DIR: stateDir };
    const streams = startProcessor(command, args, env, /^ready$/m);
    try {
      await streams.ready;
      const counts = countsOf(await readAllSettled(output, { group, inputs: [input], timeoutMs: 150_000 }));
      let right = 0;
      let missing = 0;
      for (const [id, n] of expected) {
        const seen = counts.get(id) ?? 0;
        expect(seen, id).toBeLessThanOrEqual(n);
        if (seen === n) right++;
        missing += n - seen;
      }
      // Each view counts in three hopping windows.
      console.info(`Kafka Streams on the 20,000-view backlog: ${right} of ${expected.size} windows right, about ${Math.round(missing / 3)} views dropped as late`);
    } finally {
      expect(await streams.stop()).toBe(0);
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
