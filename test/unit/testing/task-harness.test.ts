import { describe, expect, it } from 'vitest';
import { serdes, StreamrunError, topology, tumbling } from '../../../lib/index.ts';
import { TaskHarness } from '../../../lib/testing/task-harness.ts';

const text = { key: serdes.string, value: serdes.string };
/** A record that throws ends its pipe with the error, untried. */
const failFast = { errors: { retries: 0, onExhausted: 'fail' } } as const;
const decoded = (records: { key: Buffer | null; value: Buffer | null; after: number }[]) =>
  records.map((r) => [r.after, r.key?.toString() ?? null, r.value?.toString() ?? null]);

describe('TaskHarness', () => {
  it('runs a re-keying groupBy through its repartition topic into the counting sub-topology', async () => {
    const app = topology('h');
    app
      .stream('views', text)
      .groupBy((page) => page.split('/')[0]!)
      .count({ name: 'per-site' })
      .toStream()
      .to('counts', { value: serdes.json<number>() });
    const harness = await TaskHarness.create(app);
    const views = ['a/1', 'b/1', 'a/2', 'a/3', 'b/2'];
    for (const [i, page] of views.entries()) await harness.pipe('views', { key: `user-${i}`, value: page, timestamp: 1000 + i });
    expect(decoded(harness.take('counts'))).toEqual([
      [0, 'a', '1'],
      [1, 'b', '1'],
      [2, 'a', '2'],
      [3, 'a', '3'],
      [4, 'b', '2'],
    ]);
    const repartitioned = harness.take('h-per-site-repartition');
    expect(decoded(repartitioned)).toEqual(views.map((v, i) => [i, v.split('/')[0], v]));
    expect(repartitioned.map((r) => r.timestamp)).toEqual([1000, 1001, 1002, 1003, 1004]);
    // Taking clears: nothing is handed out twice.
    expect(harness.take('counts')).toEqual([]);
    // The store's changelog gets every new count too, bound for the task's partition.
    expect(decoded(harness.take('h-per-site-changelog')).map(([after, key]) => [after, key])).toEqual([
      [0, 'a'],
      [1, 'b'],
      [2, 'a'],
      [3, 'a'],
      [4, 'b'],
    ]);
    expect(await harness.taskOf('h-per-site-repartition').stores!.get('per-site').get('a')).toEqual({ value: 3, timestamp: 1003 });
    await harness.close();
  });

  it('waits for enrich calls and passes their results on in record order', async () => {
    const app = topology('h')
      .stream('in', text)
      .enrich(async (v) => {
        await new Promise((r) => setTimeout(r, v === 'slow' ? 20 : 0));
        return v.toUpperCase();
      })
      .to('out', text);
    const harness = await TaskHarness.create(app);
    for (const v of ['slow', 'fast']) await harness.pipe('in', { key: 'k', value: v, timestamp: 0, headers: { h: v } });
    const out = harness.take('out');
    expect(decoded(out)).toEqual([
      [0, 'k', 'SLOW'],
      [1, 'k', 'FAST'],
    ]);
    expect(out.map((r) => r.headers)).toEqual([{ h: 'slow' }, { h: 'fast' }]);
  });

  it('ends a pipe with the error of a failing record, naming its node, and keeps nothing of it', async () => {
    const app = topology('h');
    app
      .stream('in', text)
      .groupByKey()
      .aggregate(
        () => 0,
        (sum, v) => {
          if (v === 'bad') throw new RangeError('not a number');
          return sum + Number(v);
        },
        { name: 'sums', value: serdes.json<number>() },
      )
      .toStream()
      .to('out', { value: serdes.json<number>() });
    const harness = await TaskHarness.create(app, failFast);
    await harness.pipe('in', { key: 'k', value: '2', timestamp: 0 });
    const failed = harness.pipe('in', { key: 'k', value: 'bad', timestamp: 1 });
    await expect(failed).rejects.toBeInstanceOf(StreamrunError);
    await expect(failed).rejects.toMatchObject({ code: 'PROCESSING', context: { node: 'sums', offset: '1' } });
    await harness.pipe('in', { key: 'k', value: '3', timestamp: 2 });
    expect(decoded(harness.take('out'))).toEqual([
      [0, 'k', '2'],
      [2, 'k', '5'],
    ]);
  });

  it('counts late records per node', async () => {
    const app = topology('h');
    app.stream('in', text).groupByKey().windowedBy(tumbling(10)).count({ name: 'w' });
    const harness = await TaskHarness.create(app);
    for (const t of [5, 25, 3, 4, 26]) await harness.pipe('in', { key: 'k', value: 'x', timestamp: t });
    expect([...harness.late]).toEqual([['w', 2]]);
  });

  it('ends a pipe with a failing enrich call’s error', async () => {
    const app = topology('h')
      .stream('in', text)
      .enrich(async () => Promise.reject(new Error('unavailable')), { name: 'lookup' })
      .to('out', text);
    const harness = await TaskHarness.create(app, failFast);
    await expect(harness.pipe('in', { key: 'k', value: 'v', timestamp: 0 })).rejects.toMatchObject({
      code: 'PROCESSING',
      message: 'lookup: unavailable',
    });
    expect(harness.take('out')).toEqual([]);
  });

  it('takes strings as UTF-8 and Buffers as they are', async () => {
    const app = topology('h').stream('in', { key: serdes.string, value: serdes.buffer }).to('out', { key: serdes.string, value: serdes.buffer });
    const harness = await TaskHarness.create(app);
    await harness.pipe('in', { key: 'ключ', value: 'é', timestamp: 0 });
    await harness.pipe('in', { key: Buffer.from('k'), value: Buffer.from([0xff]), timestamp: 0 });
    const out = harness.take('out');
    expect(out.map((r) => [r.key!.toString(), [...r.value!]])).toEqual([
      ['ключ', [0xc3, 0xa9]],
      ['k', [0xff]],
    ]);
    expect(out.every((r) => Buffer.isBuffer(r.value))).toBe(true);
  });

  it('refuses a topic no sub-topology reads', async () => {
    const harness = await TaskHarness.create(topology('h').stream('in', text).to('out'));
    await expect(harness.pipe('elsewhere', { key: null, value: 'x', timestamp: 0 })).rejects.toThrow('no sub-topology reads elsewhere');
    expect(() => harness.taskOf('elsewhere')).toThrow('no sub-topology reads elsewhere');
  });
});

