import { describe, expect, it } from 'vitest';
import { serdes, sliding, topology } from '../../../../lib/index.ts';
import { TaskHarness } from '../../../../lib/testing/task-harness.ts';

const text = { key: serdes.string, value: serdes.string };
const read = (records: { key: Buffer | null; value: Buffer | null; timestamp: number }[]) =>
  records.map((r) => {
    const w = JSON.parse(r.key!.toString()) as { key: string; start: number; end: number };
    return `${w.key}[${w.start},${w.end}]=${r.value?.toString()}@${r.timestamp}`;
  });

describe('sliding-window aggregation', () => {
  it("gives the README's example: sliding(10 s) counts of a@11 a@14 a@22 a@19 a@40", async () => {
    const app = topology('s');
    app.stream('in', text).groupByKey().windowedBy(sliding(10_000)).count({ name: 'c' }).toStream().mapValues(String).to('out', { key: serdes.json(), value: serdes.string });
    const harness = await TaskHarness.create(app);
    for (const s of [11, 14, 22, 19, 40]) await harness.pipe('in', { key: 'a', value: 'x', timestamp: s * 1000 });
    const seconds = harness.take('out').map((r) => {
      const w = JSON.parse(r.key!.toString()) as { start: number; end: number };
      return `a[${w.start / 1000},${w.end / 1000}]=${r.value?.toString()}`;
    });
    expect(seconds.join(' ')).toBe(
      'a[1,11]=1 a[11.001,21.001]=1 a[4,14]=2 a[14.001,24.001]=1 a[12,22]=2 a[14.001,24.001]=2 a[12,22]=3 a[19.001,29.001]=1 a[30,40]=1',
    );
    await harness.close();
  });

  it('goes by the extracted event time: windows, lateness and output timestamps', async () => {
    const app = topology('s');
    app
      .stream('in', text)
      .groupByKey()
      .windowedBy(sliding(10), { timestamp: (v) => Number(v) })
      .count({ name: 'counts' })
      .toStream()
      .mapValues(String)
      .to('out', { key: serdes.json(), value: serdes.string });
    const harness = await TaskHarness.create(app);
    for (const [value, timestamp] of [['20', 1], ['25', 2], ['9', 3]] as const) await harness.pipe('in', { key: 'a', value, timestamp });
    expect(read(harness.take('out'))).toEqual(['a[10,20]=1@20', 'a[21,31]=1@25', 'a[15,25]=2@25']);
    // 9 + 1 + 10 <= 25 - 0: every window of the record closed.
    expect(harness.late.get('counts')).toBe(1);
    await harness.close();
  });

  it('skips records without a key or a value, as Kafka Streams does', async () => {
    const app = topology('s');
    app
      .stream('in', text)
      .mapValues((v) => (v === 'none' ? null : v))
      .groupByKey()
      .windowedBy(sliding(10))
      .count({ name: 'counts' })
      .toStream()
      .mapValues(String)
      .to('out', { key: serdes.json(), value: serdes.string });
    const harness = await TaskHarness.create(app);
    await harness.pipe('in', { key: null, value: 'x', timestamp: 20 });
    await harness.pipe('in', { key: 'a', value: 'none', timestamp: 30 });
    await harness.pipe('in', { key: 'a', value: 'x', timestamp: 12 });
    expect(read(harness.take('out'))).toEqual(['a[2,12]=1@12']);
    expect(harness.late.size).toBe(0);
    await harness.close();
  });

  it('deletes windows from its store once the retention hides them, and tells the changelog', async () => {
    const app = topology('s');
    app.stream('in', text).groupByKey().windowedBy(sliding(10)).count({ name: 'counts' });
    const harness = await TaskHarness.create(app);
    await harness.pipe('in', { key: 'a', value: 'x', timestamp: 20 });
    await harness.pipe('in', { key: 'a', value: 'x', timestamp: 60 });
    const changes = harness.take('s-counts-changelog').map((r) => [r.after, r.value === null ? 'delete' : 'put']);
    // [10,20] starts 2 × 10 + 0 before [50,60] or more: nothing can see it again.
    expect(changes).toEqual([[0, 'put'], [1, 'put'], [1, 'delete']]);
    await harness.close();
  });
});
