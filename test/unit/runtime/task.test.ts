import { describe, expect, it } from 'vitest';
import { graphOf } from '../../../lib/dsl/topology.ts';
import { serdes, StreamrunError, topology, type Topology } from '../../../lib/index.ts';
import { childrenOf } from '../../../lib/graph/edges.ts';
import { subtopologies } from '../../../lib/graph/subtopologies.ts';
import type { InputBatch, InputRecord } from '../../../lib/runtime/client.ts';
import { Task } from '../../../lib/runtime/task.ts';
import type { TaskStores } from '../../../lib/state/task-stores.ts';

/** A store kept in memory, standing in for the task's LevelDB stores. */
class MemoryStores {
  readonly maps = new Map<string, Map<unknown, unknown>>();
  get(name: string) {
    const map = this.maps.get(name) ?? new Map<unknown, unknown>();
    this.maps.set(name, map);
    return { name, get: (k: unknown) => map.get(k), put: (k: unknown, v: unknown) => void map.set(k, v), delete: (k: unknown) => void map.delete(k), range: () => { throw new Error('not here'); } };
  }
}

/** A task over the first sub-topology of `t`, with the failures it reports. */
function taskFor(t: Topology, maxOutputs = 1000) {
  const graph = graphOf(t);
  const failures: StreamrunError[] = [];
  const stores = new MemoryStores();
  const task = new Task({
    id: '0_0',
    partition: 0,
    nodes: subtopologies(graph)[0]!.nodes,
    children: childrenOf(graph),
    onLate: () => {},
    breaker: () => ({ halfOpenAfterMs: 0, call: (fn) => fn(), onOpen: () => {} }),
    stores: stores as unknown as TaskStores,
  });
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
  it('runs records through map, filter, flatMap and branch into the right sinks, in order', () => {
    const app = topology('t');
    const parts = app
      .stream('in', { key: serdes.string, value: serdes.string })
      .filter((v) => v !== 'skip')
      .flatMapValues((v) => v.split(' '))
      .map((word, key) => ({ key: `${key}:${word}`, value: word.length }))
      .branch({ short: (n) => n <= 3, long: (n) => n > 3 });
    parts.short.to('short', { value: serdes.json<number>() });
    parts.long.mapValues((n) => `len ${n}`).to('long');
    const { run, written, task } = taskFor(app);

    expect(run('in', ['a quick fox', 'skip', 'jumps'], ['k1', 'k2', 'k3'])).toBe(3);
    expect(written('short')).toEqual([['k1:a', '1'], ['k1:fox', '3']]);
    expect(written('long')).toEqual([['k1:quick', 'len 5'], ['k3:jumps', 'len 5']]);
    expect(task.outputs.size).toBe(4);
    expect(task.takePositions()).toEqual([{ topic: 'in', partition: 0, offset: '103' }]);
  });

  it('carries timestamp and headers to the outputs and passes null keys without the serde', () => {
    const app = topology('t').stream('in', { key: serdes.string, value: serdes.string }).to('out');
    const { run, task } = taskFor(app);
    run('in', ['x'], [null]);
    const [out] = task.outputs.lanes.get('out')!;
    expect(out).toEqual({ key: null, value: Buffer.from('x'), timestamp: '1700000000000', headers: { trace: 't0' } });
  });

  it('merges two sources of one task', () => {
    const app = topology('t');
    const a = app.stream('a', { key: serdes.string, value: serdes.string });
    const b = app.stream('b', { key: serdes.string, value: serdes.string });
    a.merge(b).to('out');
    const { run, written } = taskFor(app);
    run('a', ['from a']);
    run('b', ['from b']);
    expect(written('out')).toEqual([[null, 'from a'], [null, 'from b']]);
  });

  it('reports a record it cannot read or process with its node and offset, and goes on', () => {
    const app = topology('t')
      .stream('in', { key: serdes.string, value: serdes.json<{ n: number }>() })
      .mapValues((v) => {
        if (v.n < 0) throw new RangeError('negative');
        return v.n;
      }, { name: 'check' })
      .to('out', { value: serdes.json<number>() });
    const { run, written, failures } = taskFor(app);
    expect(run('in', ['{"n":1}', '{oops', '{"n":-1}', null, '{"n":2}'])).toBe(5);
    expect(written('out')).toEqual([[null, '1'], [null, '2']]);
    expect(failures.map((f) => [f.code, f.context.node, f.context.offset])).toEqual([
      ['DESERIALIZATION', 'source-0', '101'],
      ['PROCESSING', 'check', '102'],
    ]);
    expect(failures[1]!.message).toBe('check: negative');
  });

  it('aggregates per key in the store and emits every new aggregate; keyless records are skipped', () => {
    const app = topology('t');
    const grouped = app.stream('in', { key: serdes.string, value: serdes.string }).groupByKey();
    grouped.count({ name: 'n' }).toStream().to('counts');
    grouped.reduce((a, b) => `${a}+${b}`, { name: 'joined' }).toStream().to('joined');
    const { run, written, stores } = taskFor(app);
    run('in', ['a', 'b', 'c', 'd'], ['x', 'y', 'x', null]);
    expect(written('counts')).toEqual([['x', '1'], ['y', '1'], ['x', '2']]);
    expect(written('joined')).toEqual([['x', '"a"'], ['y', '"b"'], ['x', '"a+c"']]);
    expect([...stores.maps.get('n')!]).toEqual([['x', 2], ['y', 1]]);
  });

  it('stops taking records once enough outputs wait, so a commit can bound memory', () => {
    const app = topology('t')
      .stream('in', { key: serdes.string, value: serdes.string })
      .flatMapValues((v) => [v, v])
      .to('out');
    const { run, task } = taskFor(app, 4);
    expect(run('in', ['1', '2', '3', '4'])).toBe(2);
    expect(task.outputs.size).toBe(4);
    expect(task.takePositions()).toEqual([{ topic: 'in', partition: 0, offset: '102' }]);
  });
});
