import { describe, expect, it } from 'vitest';
import { serdes, topology, tumbling } from '../../../lib/index.ts';
import type { InputBatch } from '../../../lib/kafka/client.ts';
import { InputProgress } from '../../../lib/runtime/input-progress.ts';
import { newTask } from './new-task.ts';

const batch = (topic: string, lastOffset: number, highWatermark?: number): InputBatch => ({
  topic,
  partition: 0,
  records: [],
  lastOffset: String(lastOffset),
  ...(highWatermark === undefined ? {} : { highWatermark: String(highWatermark) }),
});

describe('InputProgress', () => {
  it('an input is behind while its batch is in hand, and after a batch short of the partition’s end until it falls silent', () => {
    let wall = 0;
    const progress = new InputProgress(['b'], { idleMs: 1_000, now: () => wall });
    expect([progress.behind('a'), progress.behind('b')]).toEqual([false, true]);
    progress.begin('a');
    expect(progress.behind('a')).toBe(true);
    // Offsets 0..9 read, the partition ends at 20: more to come.
    expect(progress.end(batch('a', 9, 20))).toBe(false);
    expect(progress.behind('a')).toBe(true);
    wall = 1_001;
    // Silent for longer than idleMs: it no longer holds anyone back (b, behind at the start, neither).
    expect([progress.behind('a'), progress.behind('b')]).toEqual([false, false]);
    progress.begin('a');
    expect(progress.end(batch('a', 19, 20))).toBe(true);
    expect(progress.behind('a')).toBe(false);
    // A batch that does not say where the partition ends leaves nothing known to read.
    progress.begin('b');
    expect(progress.end(batch('b', 5))).toBe(true);
    expect(progress.behind('b')).toBe(false);
  });
});

describe('a task reading two topics into one window', () => {
  const text = { key: serdes.string, value: serdes.string };
  const app = topology('merged');
  app
    .stream('a', text)
    .merge(app.stream('b', text))
    .groupByKey()
    .windowedBy(tumbling(10))
    .count({ name: 'counts', emit: 'final' })
    .toStream()
    .mapValues(String)
    .to('out', { key: serdes.json(), value: serdes.string });

  const feed = async (behind: string[]) => {
    const late: number[] = [];
    const { task } = await newTask(app, 0, { behind, onLate: (_, timestamp) => late.push(timestamp) });
    const run = (topic: string, times: number[]) => {
      const records = times.map((t, i) => ({ key: Buffer.from('k'), value: Buffer.from(`${topic}${t}`), timestamp: String(t), offset: String(i) }));
      task.process({ topic, partition: 0, records, lastOffset: String(times.length - 1), highWatermark: String(times.length) }, 0, 1_000);
      const out = (task.outputs.lanes.get('out') ?? []).map((r) => `${r.key!.toString()}=${r.value!.toString()}`);
      task.outputs.clear();
      return out;
    };
    return { run, late };
  };

  it('b, not read yet when the task opened, holds the time back while a’s backlog runs ahead: its records count, and the windows close once b is read', async () => {
    const { run, late } = await feed(['b']);
    expect(run('a', [5, 15, 25, 35])).toEqual([]);
    expect(run('b', [6, 16])).toEqual([
      '{"key":"k","start":0,"end":10}=2',
      '{"key":"k","start":10,"end":20}=2',
      '{"key":"k","start":20,"end":30}=1',
    ]);
    expect(late).toEqual([]);
  });

  it('with b read to its end when the task opened, it is Kafka Streams’ rule: b’s records behind a’s time are late', async () => {
    const { run, late } = await feed([]);
    expect(run('a', [5, 15, 25, 35])).toEqual([
      '{"key":"k","start":0,"end":10}=1',
      '{"key":"k","start":10,"end":20}=1',
      '{"key":"k","start":20,"end":30}=1',
    ]);
    expect(run('b', [6, 16])).toEqual([]);
    expect(late).toEqual([6, 16]);
  });
});
