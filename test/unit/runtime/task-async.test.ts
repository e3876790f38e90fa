import { describe, expect, it } from 'vitest';
import { serdes, StreamrunError, topology, type SinkRecord, type Topology } from '../../../lib/index.ts';
import type { InputBatch } from '../../../lib/kafka/client.ts';
import type { Failed, Settled } from '../../../lib/runtime/failures.ts';
import type { Task } from '../../../lib/runtime/task.ts';
import { newTask } from './new-task.ts';

/**
 * The Task's asynchronous side, driven as the runner drives it: enrich calls bounded by their
 * concurrency and drained in record order, external sinks written once per flush, failures
 * handed to `settle` with what the runner needs to retry or dead-letter them.
 */

const text = { key: serdes.string, value: serdes.string };

const taskFor = async (t: Topology) => (await newTask(t, 3)).task;

const batchOf = (values: string[], lastOffset?: string): InputBatch => ({
  topic: 'in',
  partition: 3,
  records: values.map((v, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(v), timestamp: String(1000 + i), offset: String(10 + i) })),
  lastOffset: lastOffset ?? String(10 + values.length - 1),
});

const values = (task: Task, topic = 'out') => (task.outputs.lanes.get(topic) ?? []).map((r) => r.value?.toString() ?? null);

describe('Task: enrich calls', () => {
  it('stops taking records while `concurrency` calls are in flight, and drains them in record order', async () => {
    const resolvers = new Map<string, (v: string) => void>();
    const app = topology('t')
      .stream('in', text)
      .enrich((v) => new Promise<string>((resolve) => resolvers.set(v, resolve)), { concurrency: 2 })
      .to('out', text);
    const task = await taskFor(app);
    const batch = batchOf(['a', 'b', 'c']);
    expect(task.process(batch, 0, 100)).toBe(2);
    expect([...resolvers.keys()]).toEqual(['a', 'b']);
    resolvers.get('b')!('B');
    resolvers.get('a')!('A');
    expect(await task.drain(() => Promise.resolve('done'))).toBe('done');
    expect(values(task)).toEqual(['A', 'B']);
    expect(task.process(batch, 2, 100)).toBe(3);
    resolvers.get('c')!('C');
    await task.drain(() => Promise.resolve('done'));
    expect(values(task)).toEqual(['A', 'B', 'C']);
    expect(task.takePositions()).toEqual([{ topic: 'in', partition: 3, offset: '13' }]);
  });

  it('hands a failed call to settle with its node, offset and a retry that passes the result on', async () => {
    let calls = 0;
    const app = topology('t')
      .stream('in', text)
      .enrich(
        async (v) => {
          calls++;
          if (calls === 1) throw new TypeError('service down');
          return v.toUpperCase();
        },
        { name: 'lookup' },
      )
      .to('out', text);
    const task = await taskFor(app);
    task.process(batchOf(['x']), 0, 100);
    const settled: Failed[] = [];
    const result = await task.drain(async (failed) => {
      settled.push(failed);
      await failed.retry();
      return 'done';
    });
    expect(result).toBe('done');
    expect(settled).toHaveLength(1);
    const error = settled[0]!.error;
    expect(error).toBeInstanceOf(StreamrunError);
    expect([error.code, error.message, error.context]).toEqual([
      'PROCESSING',
      'lookup: service down',
      { topic: 'in', partition: 3, offset: '10', node: 'lookup' },
    ]);
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(settled[0]!.source.record.offset).toBe('10');
    expect(values(task)).toEqual(['X']);
    expect(calls).toBe(2);
  });

  it('a retry that fails again throws a StreamrunError naming the node; a settle other than done stops the drain', async () => {
    const app = topology('t')
      .stream('in', text)
      .enrich(async (v) => {
        if (v !== 'ok') throw new Error(`refused ${v}`);
        return v;
      }, { name: 'call' })
      .to('out', text);
    const task = await taskFor(app);
    task.process(batchOf(['bad', 'worse', 'ok']), 0, 100);
    const seen: string[] = [];
    const result = await task.drain(async (failed): Promise<Settled> => {
      seen.push(failed.error.message);
      await expect(failed.retry()).rejects.toMatchObject({ code: 'PROCESSING', message: 'call: refused bad', context: { node: 'call' } });
      return 'aborted';
    });
    expect(result).toBe('aborted');
    expect(seen).toEqual(['call: refused bad']);
    expect(values(task)).toEqual([]);
  });
});

describe('Task: external sinks', () => {
  it('collects records per sink and writes each sink once per flush; they count towards maxOutputs', async () => {
    const writes: SinkRecord<string | null, string>[][] = [];
    const app = topology('t')
      .stream('in', text)
      .sink({ name: 'list', write: async (records) => void writes.push([...records]) });
    const task = await taskFor(app);
    expect(task.process(batchOf(['a', 'b', 'c']), 0, 2)).toBe(2);
    expect(await task.flushSinks(() => Promise.resolve('done'))).toBe('done');
    expect(writes.map((w) => w.map((r) => [r.key, r.value, r.context.offset]))).toEqual([
      [
        ['k0', 'a', '10'],
        ['k1', 'b', '11'],
      ],
    ]);
    // Nothing new: no write.
    expect(await task.flushSinks(() => Promise.resolve('done'))).toBe('done');
    expect(writes).toHaveLength(1);
    expect(task.process(batchOf(['a', 'b', 'c']), 2, 2)).toBe(3);
    await task.flushSinks(() => Promise.resolve('done'));
    expect(writes.map((w) => w.map((r) => r.value))).toEqual([['a', 'b'], ['c']]);
  });

  it('hands a failed write to settle and returns what settle returns', async () => {
    const app = topology('t')
      .stream('in', text)
      .sink({ name: 'down', write: async () => Promise.reject(new Error('connection refused')) }, { name: 'db' });
    const task = await taskFor(app);
    task.process(batchOf(['a', 'b']), 0, 100);
    const failures: Failed[] = [];
    expect(await task.flushSinks(async (f) => (failures.push(f), 'fatal'))).toBe('fatal');
    expect(failures.map((f) => [f.error.message, f.error.context.node, f.sources?.map((s) => s.record.offset)])).toEqual([
      ['db: connection refused', 'db', ['10', '11']],
    ]);
  });
});

describe('Task: records and positions', () => {
  it('retry runs one record again and throws a StreamrunError when it fails', async () => {
    let fail = true;
    const app = topology('t')
      .stream('in', text)
      .mapValues((v) => {
        if (fail) throw new RangeError(`no ${v}`);
        return v.toUpperCase();
      }, { name: 'upper' })
      .to('out', text);
    const task = await taskFor(app);
    const batch = batchOf(['a', 'b']);
    expect(task.process(batch, 0, 100)).toBe(0);
    expect(task.takeFailure()).toMatchObject({ index: 0, error: { code: 'PROCESSING', context: { node: 'upper', offset: '10' } } });
    expect(task.takeFailure()).toBeUndefined();
    expect(() => task.retry(batch, 1)).toThrow(expect.objectContaining({ code: 'PROCESSING', message: 'upper: no b', context: expect.objectContaining({ offset: '11' }) }));
    fail = false;
    task.retry(batch, 1);
    expect(values(task)).toEqual(['B']);
  });

  it('commits past the batch end (a transaction marker) after its last record, and the next offset otherwise', async () => {
    const task = await taskFor(topology('t').stream('in', text).to('out', text));
    const batch = batchOf(['a', 'b', 'c'], '15');
    task.markDone(batch, 1);
    expect(task.takePositions()).toEqual([{ topic: 'in', partition: 3, offset: '12' }]);
    task.markDone(batch, 2);
    expect(task.takePositions()).toEqual([{ topic: 'in', partition: 3, offset: '16' }]);
    expect(task.takePositions()).toEqual([]);
  });

  it('discardPending forgets outputs, sink records, store writes and positions', async () => {
    const writes: unknown[] = [];
    const app = topology('t');
    const counts = app.stream('in', text).groupByKey().count({ name: 'n' });
    counts.toStream().to('out', { value: serdes.json<number>() });
    counts.toStream().sink({ name: 'list', write: async (r) => void writes.push(...r) });
    const task = await taskFor(app);
    task.process(batchOf(['a', 'b']), 0, 100);
    expect(task.outputs.size).toBe(2);
    task.discardPending();
    expect([task.outputs.size, values(task), task.takePositions()]).toEqual([0, [], []]);
    await task.flushSinks(() => Promise.resolve('done'));
    expect(writes).toEqual([]);
    expect(task.stores!.get('n').get('k0')).toBeUndefined();
    // With room again, the next record is taken as if the discarded ones never were.
    expect(task.process(batchOf(['a']), 0, 1)).toBe(1);
    expect(values(task)).toEqual(['1']);
  });

  it('refuses a topic it has no source for', async () => {
    const task = await taskFor(topology('t').stream('in', text).to('out', text));
    expect(() => task.process({ ...batchOf(['a']), topic: 'other' }, 0, 10)).toThrow(
      expect.objectContaining({ code: 'INVALID_TOPOLOGY', message: 'task 0_3 has no source for topic other' }),
    );
  });
});
