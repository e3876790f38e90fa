import { describe, expect, it } from 'vitest';
import { serdes, topology, tumbling } from '../../../lib/index.ts';
import type { InputRecord, OutputRecord } from '../../../lib/kafka/client.ts';
import type { Task } from '../../../lib/runtime/task.ts';
import { newTask } from './new-task.ts';

const REPARTITION = 'rt-per-site-repartition';

/** Visits per site: re-keyed by site, through a repartition topic, counted in tumbling(10) windows. */
function visitsPerSite() {
  const app = topology('rt');
  app
    .stream('visits', { key: serdes.string, value: serdes.string })
    .groupBy((site) => site, { key: serdes.string })
    .windowedBy(tumbling(10))
    .count({ name: 'per-site', emit: 'final' })
    .toStream()
    .mapValues(String)
    .to('out', { key: serdes.json(), value: serdes.string });
  return app;
}

let offset = 0;
const record = (value: string | null, timestamp: number, headers?: InputRecord['headers']): InputRecord => ({
  key: value === null ? null : Buffer.from('user'),
  value: value === null ? null : Buffer.from(value),
  timestamp: String(timestamp),
  offset: String(offset++),
  ...(headers === undefined ? {} : { headers }),
});
/** A record of the repartition topic, from `writer` at its event time `time`. */
const from = (writer: number, time: number, site: string, timestamp: number) =>
  ({ ...record(site, timestamp, { 'streamrun.time': `${writer}:${time}`, trace: 'x' }), key: Buffer.from(site) });
const watermark = (writer: number, time: number) => record(null, 0, { 'streamrun.watermark': `${writer}:${time}` });

function run(task: Task, topic: string, records: InputRecord[]): void {
  const last = records.at(-1)!.offset;
  expect(task.process({ topic, partition: 0, records, lastOffset: last }, 0, Number.POSITIVE_INFINITY)).toBe(records.length);
}
const text = (out: OutputRecord) => ({
  key: out.key?.toString() ?? null,
  value: out.value?.toString() ?? null,
  timestamp: out.timestamp,
  headers: out.headers,
  ...(out.partition === undefined ? {} : { partition: out.partition }),
});

describe('event time across a repartition topic', () => {
  it('a writer stamps each record with its event time, and after a commit sends it to every partition once', async () => {
    const { task } = await newTask(visitsPerSite(), 1, { partitions: 3 });
    run(task, 'visits', [record('a', 100), record('b', 50)]);
    expect(task.outputs.lanes.get(REPARTITION)!.map(text)).toEqual([
      { key: 'a', value: 'a', timestamp: '100', headers: { 'streamrun.time': '1:100' } },
      { key: 'b', value: 'b', timestamp: '50', headers: { 'streamrun.time': '1:100' } },
    ]);
    task.outputs.clear();
    task.stageChangelog();
    const mark = { key: null, value: null, timestamp: undefined, headers: { 'streamrun.watermark': '1:100' } };
    expect(task.outputs.lanes.get(REPARTITION)!.map(text)).toEqual([0, 1, 2].map((partition) => ({ ...mark, partition })));
    task.outputs.clear();
    // Nothing new: no second watermark.
    task.stageChangelog();
    expect(task.outputs.lanes.get(REPARTITION)).toEqual([]);
    run(task, 'visits', [record('c', 120)]);
    task.outputs.clear();
    task.stageChangelog();
    expect(task.outputs.lanes.get(REPARTITION)!.map((o) => o.headers)).toEqual([0, 1, 2].map(() => ({ 'streamrun.watermark': '1:120' })));
  });

  it('a reader waits for every writer: one writer’s backlog arriving first makes nothing late', async () => {
    const late: number[] = [];
    const { task } = await newTask(visitsPerSite(), 0, {
      sub: 1,
      time: { writers: (t) => (t === REPARTITION ? 2 : 0), idleMs: Number.POSITIVE_INFINITY, now: () => 0 },
      onLate: (_, t) => late.push(t),
    });
    // Writer 0's whole backlog first, then writer 1's, as two upstream tasks scheduled one after the other.
    run(task, REPARTITION, [from(0, 3, 'x', 3), from(0, 14, 'x', 14), from(0, 35, 'y', 35)]);
    expect(task.outputs.lanes.get('out') ?? []).toEqual([]);
    run(task, REPARTITION, [from(1, 5, 'x', 5), from(1, 9, 'y', 9), from(1, 22, 'x', 22)]);
    // Time is min(35, 22) = 22: [0,10) and [10,20) closed.
    expect((task.outputs.lanes.get('out') ?? []).map(text)).toEqual([
      { key: '{"key":"x","start":0,"end":10}', value: '2', timestamp: '5', headers: { trace: 'x' } },
      { key: '{"key":"y","start":0,"end":10}', value: '1', timestamp: '9', headers: { trace: 'x' } },
      { key: '{"key":"x","start":10,"end":20}', value: '1', timestamp: '14', headers: { trace: 'x' } },
    ]);
    task.outputs.clear();
    // A watermark moves time on without a record, and goes no further itself.
    run(task, REPARTITION, [watermark(1, 40)]);
    expect(task.outputs.lanes.get('out')!.map(text)).toEqual([
      { key: '{"key":"x","start":20,"end":30}', value: '1', timestamp: '22', headers: {} },
    ]);
    expect(late).toEqual([]);
  });

  it('a record late in its own writer is still late', async () => {
    const late: number[] = [];
    const { task } = await newTask(visitsPerSite(), 0, {
      sub: 1,
      time: { writers: () => 1, idleMs: Number.POSITIVE_INFINITY, now: () => 0 },
      onLate: (_, t) => late.push(t),
    });
    run(task, REPARTITION, [from(0, 30, 'x', 30), from(0, 30, 'x', 5)]);
    expect(late).toEqual([5]);
  });

  it('a silent writer stops holding the reader back after idleMs', async () => {
    let wall = 0;
    const { task } = await newTask(visitsPerSite(), 0, {
      sub: 1,
      time: { writers: () => 2, idleMs: 1_000, now: () => wall },
    });
    run(task, REPARTITION, [from(0, 3, 'x', 3), from(0, 25, 'x', 25)]);
    expect(task.outputs.lanes.get('out') ?? []).toEqual([]);
    wall = 1_001;
    run(task, REPARTITION, [from(0, 26, 'x', 26)]);
    // Writer 1 never spoke: after idleMs the time is writer 0's, 26, and [0,10) closes.
    expect(task.outputs.lanes.get('out')!.map((o) => o.key?.toString())).toEqual(['{"key":"x","start":0,"end":10}']);
  });
});
