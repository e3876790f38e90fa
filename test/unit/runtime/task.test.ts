import { describe, expect, it } from 'vitest';
import { hopping, serdes, StreamrunError, topology, type Topology } from '../../../lib/index.ts';
import type { InputBatch, InputRecord } from '../../../lib/kafka/client.ts';
import { newTask } from './new-task.ts';

/** A task over the first sub-topology of `t`, with the failures it reports. */
async function taskFor(t: Topology, maxOutputs = 1000) {
  const failures: StreamrunError[] = [];
  const { task, stores } = await newTask(t);
  const run = (topic: string, values: (string | null)[], keys: (string | null)[] = []) => {
    const records: InputRecord[] = values.map((v, i) => ({
      key: keys[i] === undefined || keys[i] === null ? null : Buffer.from(keys[i]!),
      value: v === null ? null : Buffer.from(v),
      timestamp: String(1_700_000_000_000 + i),
      offset: String(100 + i),
      headers: { trace: `t${i}` },
    }));
    const batch: InputBatch = { topic, partition: 0, records, lastOffset: String(100 + records.length - 1) };
    // As the runner does: a record that throws is settled (here: noted and counted as done).
    let index = 0;
    while (index < records.length && task.outputs.size < maxOutputs) {
      index = task.process(batch, index, maxOutputs);
      const failure = task.takeFailure();
      if (failure === undefined) continue;
      failures.push(failure.error);
      task.markDone(batch, failure.index);
      index = failure.index + 1;
    }
    return index;
  };
  const written = (topic: string) =>
    (task.outputs.lanes.get(topic) ?? []).map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null]);
  return { task, failures, run, written, stores };
}

describe('Task', () => {
  it('runs records through map, filter, flatMap and branch into the right sinks, in order', async () => {
    const app = topology('t');
    const parts = app
      .stream('in', { key: serdes.string, value: serdes.string })
      .filter((v) => v !== 'skip')
      .flatMapValues((v) => v.split(' '))
      .map((word, key) => ({ key: `${key}:${word}`, value: word.length }))
      .branch({ short: (n) => n <= 3, long: (n) => n > 3 });
    parts.short.to('short', { value: serdes.json<number>() });
    parts.long.mapValues((n) => `len ${n}`).to('long');
    const { run, written, task } = await taskFor(app);

    expect(run('in', ['a quick fox', 'skip', 'jumps'], ['k1', 'k2', 'k3'])).toBe(3);
    expect(written('short')).toEqual([['k1:a', '1'], ['k1:fox', '3']]);
    expect(written('long')).toEqual([['k1:quick', 'len 5'], ['k3:jumps', 'len 5']]);
    expect(task.outputs.size).toBe(4);
    expect(task.takePositions()).toEqual([{ topic: 'in', partition: 0, offset: '103' }]);
  });

  it('gives the event loop back after a quarter second of a slow batch, at a multiple of 16 records, so heartbeats go out', async () => {
    const app = topology('t')
      .stream('in', { key: serdes.string, value: serdes.string })
      .peek(() => {
        const until = process.hrtime.bigint() + 2_000_000n;
        while (process.hrtime.bigint() < until);
      })
      .to('out');
    const { task } = await newTask(app);
    const records: InputRecord[] = Array.from({ length: 1_000 }, (_, i) => ({ key: null, value: Buffer.from('v'), timestamp: '0', offset: String(i) }));
    // 1,000 records of 2 ms each would hold the loop for 2 s.
    const done = task.process({ topic: 'in', partition: 0, records, lastOffset: '999' }, 0, 10_000);
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(1_000);
    expect(done % 16).toBe(0);
    expect(task.takePositions()).toEqual([{ topic: 'in', partition: 0, offset: String(done) }]);
  });

  it('carries timestamp and headers to the outputs and passes null keys without the serde', async () => {
    const app = topology('t').stream('in', { key: serdes.string, value: serdes.string }).to('out');
    const { run, task } = await taskFor(app);
    run('in', ['x'], [null]);
    const [out] = task.outputs.lanes.get('out')!;
    expect(out).toEqual({ key: null, value: Buffer.from('x'), timestamp: '1700000000000', headers: { trace: 't0' } });
  });

  it("gives each windowed record the bytes of its window's key to choose the partition; other records none", async () => {
    const app = topology('t');
    const source = app.stream('in', { key: serdes.string, value: serdes.string });
    source.to('plain');
    source.groupByKey().windowedBy(hopping(10_000, 5000)).count({ name: 'n' }).toStream().mapValues((n) => n * 10).to('windows');
    const { run, task } = await taskFor(app);
    run('in', ['x'], ['sensor-1']);
    const sent = (topic: string) => task.outputs.lanes.get(topic)!.map((r) => [r.key?.toString(), r.value?.toString(), r.partitionKey?.toString()]);
    // 1_700_000_000_000 lies in two hopping windows of 10 s.
    expect(sent('windows')).toEqual([
      ['{"key":"sensor-1","start":1699999995000,"end":1700000005000}', '10', 'sensor-1'],
      ['{"key":"sensor-1","start":1700000000000,"end":1700000010000}', '10', 'sensor-1'],
    ]);
    expect(sent('plain')).toEqual([['sensor-1', 'x', undefined]]);
  });

  it('merges two sources of one task', async () => {
    const app = topology('t');
    const a = app.stream('a', { key: serdes.string, value: serdes.string });
    const b = app.stream('b', { key: serdes.string, value: serdes.string });
    a.merge(b).to('out');
    const { run, written } = await taskFor(app);
    run('a', ['from a']);
    run('b', ['from b']);
    expect(written('out')).toEqual([[null, 'from a'], [null, 'from b']]);
  });

  it('reports a record it cannot read or process with its node and offset, and goes on', async () => {
    const app = topology('t')
      .stream('in', { key: serdes.string, value: serdes.json<{ n: number }>() })
      .mapValues((v) => {
        if (v.n < 0) throw new RangeError('negative');
        return v.n;
      }, { name: 'check' })
      .to('out', { value: serdes.json<number>() });
    const { run, written, failures } = await taskFor(app);
    expect(run('in', ['{"n":1}', '{oops', '{"n":-1}', null, '{"n":2}'])).toBe(5);
    expect(written('out')).toEqual([[null, '1'], [null, '2']]);
    expect(failures.map((f) => [f.code, f.context.node, f.context.offset])).toEqual([
      ['DESERIALIZATION', 'source-0', '101'],
      ['PROCESSING', 'check', '102'],
    ]);
    expect(failures[1]!.message).toBe('check: negative');
  });

  it('aggregates per key in the store and emits every new aggregate; keyless records are skipped', async () => {
    const app = topology('t');
    const grouped = app.stream('in', { key: serdes.string, value: serdes.string }).groupByKey();
    grouped.count({ name: 'n' }).toStream().to('counts');
    grouped.reduce((a, b) => `${a}+${b}`, { name: 'joined' }).toStream().to('joined');
    const { run, written, stores } = await taskFor(app);
    run('in', ['a', 'b', 'c', 'd'], ['x', 'y', 'x', null]);
    expect(written('counts')).toEqual([['x', '1'], ['y', '1'], ['x', '2']]);
    expect(written('joined')).toEqual([['x', '"a"'], ['y', '"b"'], ['x', '"a+c"']]);
    // Everything the store holds (all pending until a commit): no entry for the keyless record.
    // Each value is [the newest record's timestamp as int64][the count].
    expect(stores.get('n').changes().map((c) => [c.key.toString(), c.value?.subarray(8).toString()])).toEqual([['x', '2'], ['y', '1']]);
  });

  it('stops taking records once enough outputs wait, so a commit can bound memory', async () => {
    const app = topology('t')
      .stream('in', { key: serdes.string, value: serdes.string })
      .flatMapValues((v) => [v, v])
      .to('out');
    const { run, task } = await taskFor(app, 4);
    expect(run('in', ['1', '2', '3', '4'])).toBe(2);
    expect(task.outputs.size).toBe(4);
    expect(task.takePositions()).toEqual([{ topic: 'in', partition: 0, offset: '102' }]);
  });
});
