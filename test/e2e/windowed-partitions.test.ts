import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hopping, serdes, topology } from '../../lib/index.ts';
import { createTopic, produce, readAllSettled, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';

/** The partition of 4 that Kafka Streams' WindowedStreamPartitioner picks for each key's windows (test/partitions). */
const kafkaPartition = new Map(
  (JSON.parse(readFileSync(new URL('../partitions/expected.json', import.meta.url), 'utf8')) as { key: string; partitions: { '4': number } }[]).map(
    (e) => [e.key, e.partitions['4']],
  ),
);

// A recent hour, so the broker's retention keeps the records; a multiple of the 5 s advance, so
// windows start at whole multiples of 5 s after it.
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000;

// [key, event time in seconds after base], in time order: one partition, no record late.
const events: [string, number][] = [
  ['sensor-5', 0], ['sensor-1', 1], ['sensor-2', 2], ['sensor-3', 3], ['sensor-1', 4], ['sensor-1', 6], ['sensor-2', 7],
  ['sensor-3', 8], ['sensor-3', 9], ['sensor-4', 11], ['sensor-1', 12], ['sensor-3', 14], ['sensor-3', 18], ['sensor-5', 19],
  // Takes stream time past the end of every window above: all of them close and are emitted.
  ['sensor-6', 60],
];

// Windows of 10 s every 5 s: a record at t counts in [5j, 5j + 10) for j = floor(t / 5) - 1 and floor(t / 5).
// Each key's windows as [start s, end s, count], in window order.
const expected = new Map<string, [number, number, number][]>([
  ['sensor-1', [[-5, 5, 2], [0, 10, 3], [5, 15, 2], [10, 20, 1]]],
  ['sensor-2', [[-5, 5, 1], [0, 10, 2], [5, 15, 1]]],
  ['sensor-3', [[-5, 5, 1], [0, 10, 3], [5, 15, 3], [10, 20, 2], [15, 25, 1]]],
  ['sensor-4', [[5, 15, 1], [10, 20, 1]]],
  ['sensor-5', [[-5, 5, 1], [0, 10, 1], [10, 20, 1], [15, 25, 1]]],
]);

describe('windowed results in a topic of several partitions', () => {
  const startRunner = useRunners();

  it("land in the partition Kafka Streams picks for their key: all windows of a key in one, in window order", async () => {
    // The keys' partitions differ: writing by the whole windowed key would scatter each key's windows.
    expect(new Set([...expected.keys()].map((k) => kafkaPartition.get(k))).size).toBe(4);
    const input = uniqueName('wp-in');
    const output = uniqueName('wp-out');
    await createTopic(input, 1);
    await createTopic(output, 4);
    const app = topology(uniqueName('wp'));
    app
      .stream(input, { key: serdes.string, value: serdes.string })
      .groupByKey()
      .windowedBy(hopping(10_000, 5_000).grace(0))
      .count({ name: 'per-10s', emit: 'final' })
      .toStream()
      // Keeps the key, so the windows keep their partitioning.
      .mapValues((n) => `count=${n}`)
      .to(output);
    const runner = await startRunner(app);
    await produce(input, events.map(([key, s]) => ({ key, value: 'x', timestamp: String(base + s * 1000) })));

    const records = await readAllSettled(output, { group: runner.appId, inputs: [input] });
    const seen = new Map<string, { partitions: Set<number>; windows: [number, number, number][] }>();
    for (const r of records) {
      const w = JSON.parse(r.key!) as { key: string; start: number; end: number };
      let entry = seen.get(w.key);
      if (entry === undefined) seen.set(w.key, (entry = { partitions: new Set(), windows: [] }));
      entry.partitions.add(r.partition);
      // readAllSettled returns each partition in offset order.
      entry.windows.push([(w.start - base) / 1000, (w.end - base) / 1000, Number(r.value!.replace('count=', ''))]);
    }
    expect(new Map([...seen].map(([key, { partitions }]) => [key, [...partitions]]))).toEqual(
      new Map([...expected.keys()].map((key) => [key, [kafkaPartition.get(key)]])),
    );
    expect(new Map([...seen].map(([key, { windows }]) => [key, windows]))).toEqual(expected);
    expect(records).toHaveLength(18);
  });
});
