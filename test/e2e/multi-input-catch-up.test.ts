import { describe, expect, it } from 'vitest';
import { joinWindows, serdes, topology, tumbling } from '../../lib/index.ts';
import { createTopic, produce, readAllSettled, uniqueName, type ReadRecord } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';

const PARTITIONS = 4;
/** Per input topic. */
const READINGS = 6_000;
const DEVICES = 40;
const SIZE = 10_000;
const GRACE = 5_000;
const JOIN = 1_000;
// A recent hour: the broker's retention would delete records with timestamps from 1970.
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const text = { key: serdes.string, value: serdes.string };

interface Reading {
  readonly device: string;
  readonly id: string;
  readonly timestamp: number;
}

/**
 * Readings of two sensors over the same 150 s, 25 ms apart, each up to 4 s out of order
 * (within the 5 s grace, so none is late in its own partition), from a seeded generator.
 */
function readings(sensor: string, seed: number): Reading[] {
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: READINGS }, (_, i) => ({
    device: `device-${Math.floor(random() * DEVICES)}`,
    id: `${sensor}${i}`,
    timestamp: base + 10_000 + i * 25 - Math.floor(random() * 4_000),
  }));
}

const left = readings('t', 7);
const right = readings('h', 11);

/** The truth from the data alone: readings of both sensors per device and tumbling window. */
function windowTruth(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of [...left, ...right]) {
    const id = `${r.device}@${Math.floor((r.timestamp - base) / SIZE) * SIZE}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** The truth of an outer join within ±1 s: every pair, and each reading that has no partner alone. */
function joinTruth(): string[] {
  const pairs: string[] = [];
  const matched = new Set<string>();
  for (const l of left) {
    for (const r of right) {
      if (l.device !== r.device || Math.abs(l.timestamp - r.timestamp) > JOIN) continue;
      pairs.push(`${l.id}+${r.id}`);
      matched.add(l.id).add(r.id);
    }
  }
  for (const l of left) if (!matched.has(l.id)) pairs.push(`${l.id}+null`);
  for (const r of right) if (!matched.has(r.id)) pairs.push(`null+${r.id}`);
  return pairs.sort();
}

const messagesOf = (list: readonly Reading[]) => list.map((r) => ({ key: r.device, value: r.id, timestamp: String(r.timestamp) }));
/** One reading per device an hour later: it closes every window and join window of the data. */
const closers = Array.from({ length: DEVICES }, (_, d) => ({ key: `device-${d}`, value: 'closer', timestamp: String(base + 3_600_000) }));

describe('catching up on a backlog of two input topics read by one task', () => {
  const startRunner = useRunners();

  /**
   * The left readings to `a`, the right ones to `b`, the whole of one topic's backlog before
   * the other's (the order a task may well read them in), then the closers to `a`.
   */
  const backlog = async (a: string, b: string, order: 'left first' | 'right first') => {
    if (order === 'left first') await produce(a, messagesOf(left));
    await produce(b, messagesOf(right));
    if (order === 'right first') await produce(a, messagesOf(left));
    await produce(a, closers);
  };

  const topics = async (name: string) => {
    const a = uniqueName(`${name}-t`);
    const b = uniqueName(`${name}-h`);
    await createTopic(a, PARTITIONS);
    await createTopic(b, PARTITIONS);
    return { a, b, out: `${a}-out` };
  };

  const mergedWindows = (appId: string, a: string, b: string, out: string) => {
    const app = topology(appId);
    app
      .stream(a, text)
      .merge(app.stream(b, text))
      .groupByKey()
      .windowedBy(tumbling(SIZE).grace(GRACE))
      .count({ name: 'readings', emit: 'final' })
      .toStream()
      .mapValues(String)
      .to(out, { key: serdes.json(), value: serdes.string });
    return app;
  };

  /** Final counts by `device@start`, each window once; the closers' windows never close. */
  const countsOf = (results: readonly ReadRecord[]) => {
    const counts = new Map<string, number>();
    for (const r of results) {
      const window = JSON.parse(r.key!) as { key: string; start: number };
      const id = `${window.key}@${window.start - base}`;
      expect(counts.has(id), `one final result per window: ${id}`).toBe(false);
      counts.set(id, Number(r.value));
    }
    return counts;
  };

  it('merged into one window: 6,000 readings of each topic waiting, one topic wholly before the other; every window equals the truth, none late', async () => {
    const { a, b, out } = await topics('merged');
    await backlog(a, b, 'left first');
    const runner = await startRunner(mergedWindows(uniqueName('merged'), a, b, out), { sourcePartitions: PARTITIONS });
    const results = await readAllSettled(out, { group: runner.appId, inputs: [a, b], timeoutMs: 150_000 });
    expect(runner.stats().lateRecords).toBe(0);
    expect(countsOf(results)).toEqual(windowTruth());
  });

  it('merged into one window, restarted halfway with the rest of both topics waiting: the same results', async () => {
    const { a, b, out } = await topics('merged-restart');
    const appId = uniqueName('merged-restart');
    const half = READINGS / 2;
    await produce(a, messagesOf(left.slice(0, half)));
    await produce(b, messagesOf(right.slice(0, half)));
    const first = await startRunner(mergedWindows(appId, a, b, out), { sourcePartitions: PARTITIONS });
    await readAllSettled(out, { group: appId, inputs: [a, b], timeoutMs: 150_000 });
    await first.stop();
    await produce(a, messagesOf(left.slice(half)));
    await produce(b, messagesOf(right.slice(half)));
    await produce(a, closers);
    const second = await startRunner(mergedWindows(appId, a, b, out), { sourcePartitions: PARTITIONS });
    const results = await readAllSettled(out, { group: appId, inputs: [a, b], timeoutMs: 150_000 });
    expect(first.stats().lateRecords + second.stats().lateRecords).toBe(0);
    expect(countsOf(results)).toEqual(windowTruth());
  });

  it('an outer stream–stream join: every pair within the window, and each reading without a partner once, none late', async () => {
    const { a, b, out } = await topics('joined');
    await backlog(a, b, 'right first');
    const app = topology(uniqueName('joined'));
    app
      .stream(a, text)
      .outerJoin(app.stream(b, text), (l, r) => `${l}+${r}`, joinWindows(JOIN).grace(GRACE), { name: 'pairs' })
      .to(out, text);
    const runner = await startRunner(app, { sourcePartitions: PARTITIONS });
    const results = await readAllSettled(out, { group: runner.appId, inputs: [a, b], timeoutMs: 150_000 });
    expect(runner.stats().lateRecords).toBe(0);
    // The closers of one side find no partner, and their own windows stay open.
    const pairs = results.map((r) => r.value!).filter((v) => !v.includes('closer'));
    const expected = joinTruth();
    expect(pairs.length).toBe(expected.length);
    expect(pairs.sort()).toEqual(expected);
  });
});
