import { describe, expect, it } from 'vitest';
import { serdes, sliding, topology, tumbling } from '../../../lib/index.ts';
import type { InputRecord, OutputRecord } from '../../../lib/kafka/client.ts';
import { TaskHarness } from '../../../lib/testing/task-harness.ts';
import type { Task } from '../../../lib/runtime/task.ts';
import { newTask } from './new-task.ts';

interface Event {
  readonly type: string;
  readonly ts: number;
}

const GRACE = 10_000;
/** Short, so that a record updates tens of sliding windows, not hundreds. */
const SLIDING = 1_000;
const REPARTITION = 'xt-per-type-repartition';

/** As topologies/events.ts: re-keyed by type, windowed by the event's own time, not the record's. */
function perType(windows: 'tumbling' | 'sliding', emit: 'update' | 'final' = 'update') {
  const app = topology('xt');
  const grouped = app
    .stream('events', { key: serdes.string, value: serdes.json<Event>() })
    .groupBy((e) => e.type, { key: serdes.string });
  const timestamp = (e: Event) => e.ts;
  const counted =
    windows === 'tumbling'
      ? grouped.windowedBy(tumbling(60_000).grace(GRACE), { timestamp }).count({ name: 'per-type', emit })
      : grouped.windowedBy(sliding(SLIDING).grace(GRACE), { timestamp }).count({ name: 'per-type', emit });
  counted.toStream().to('counts', { key: serdes.json(), value: serdes.json<number>() });
  return app;
}

/**
 * 1,000 events in order, 10 ms apart, 20 batches of 50 ingested 300 ms apart: each event's time
 * lags its ingest time by 60 to 70 s, far more than the grace.
 */
function oldInOrderEvents(): { event: Event; ingested: number }[] {
  // From 35 s into a minute: the events straddle two windows.
  const first = 1_700_000_035_000;
  return Array.from({ length: 1_000 }, (_, i) => ({
    event: { type: `t${i % 3}`, ts: first + i * 10 },
    ingested: first + 70_000 + Math.floor(i / 50) * 300,
  }));
}

/** The latest count of each window key: what a table of the update stream holds. */
function latestCounts(out: readonly { key: Buffer | null; value: Buffer | null }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of out) counts.set(r.key!.toString(), JSON.parse(r.value!.toString()) as number);
  return counts;
}

describe('a windowed node that extracts its own event time', () => {
  it('counts every in-order event whose time lags its ingest time by more than the grace (tumbling)', async () => {
    const harness = await TaskHarness.create(perType('tumbling'));
    const events = oldInOrderEvents();
    for (const { event, ingested } of events) {
      await harness.pipe('events', { key: null, value: JSON.stringify(event), timestamp: ingested });
    }
    // The truth, from the data: every event in the minute window its own time falls in.
    const truth = new Map<string, number>();
    for (const { event } of events) {
      const start = Math.floor(event.ts / 60_000) * 60_000;
      const key = JSON.stringify({ key: event.type, start, end: start + 60_000 });
      truth.set(key, (truth.get(key) ?? 0) + 1);
    }
    expect(latestCounts(harness.take('counts'))).toEqual(truth);
    expect([...truth.values()].reduce((a, b) => a + b)).toBe(1_000);
    expect(harness.late).toEqual(new Map());
    await harness.close();
  });

  it('counts every in-order event whose time lags its ingest time by more than the grace (sliding)', async () => {
    const harness = await TaskHarness.create(perType('sliding'));
    const events = oldInOrderEvents();
    const counts = new Map<string, number>();
    for (const { event, ingested } of events) {
      await harness.pipe('events', { key: null, value: JSON.stringify(event), timestamp: ingested });
      for (const [key, count] of latestCounts(harness.take('counts'))) counts.set(key, count);
    }
    // The truth: the window ending at a type's last event holds its events of the span before, ends included.
    const expected = new Map<string, number>();
    for (const type of ['t0', 't1', 't2']) {
      const times = events.filter((e) => e.event.type === type).map((e) => e.event.ts);
      const end = times.at(-1)!;
      expected.set(JSON.stringify({ key: type, start: end - SLIDING, end }), times.filter((t) => t >= end - SLIDING).length);
    }
    expect(new Map([...expected.keys()].map((k) => [k, counts.get(k)]))).toEqual(expected);
    expect(harness.late).toEqual(new Map());
    await harness.close();
  });
});

let offset = 0;
/** A record of the repartition topic from `writer`, whose stream time (record timestamps) is `writerTime`. */
const from = (writer: number, writerTime: number, event: Event): InputRecord => ({
  key: Buffer.from(event.type),
  value: Buffer.from(JSON.stringify(event)),
  timestamp: String(writerTime),
  offset: String(offset++),
  headers: { 'streamrun.time': `${writer}:${writerTime}` },
});
const watermark = (writer: number, time: number): InputRecord => ({
  key: null,
  value: null,
  timestamp: '0',
  offset: String(offset++),
  headers: { 'streamrun.watermark': `${writer}:${time}` },
});
function run(task: Task, records: InputRecord[]): void {
  const last = records.at(-1)!.offset;
  expect(task.process({ topic: REPARTITION, partition: 0, records, lastOffset: last }, 0, Number.POSITIVE_INFINITY)).toBe(records.length);
}
const closed = (out: readonly OutputRecord[] | undefined) => (out ?? []).map((o) => `${o.key!.toString()}=${o.value!.toString()}`);

describe('the stream time of a node that extracts its own event time, behind a repartition topic', () => {
  it('is the earliest of its writers’ extracted times: their watermarks, in record time, do not move it', async () => {
    const late: number[] = [];
    const { task } = await newTask(perType('tumbling', 'final'), 0, {
      sub: 1,
      time: { writers: (t) => (t === REPARTITION ? 2 : 0), idleMs: Number.POSITIVE_INFINITY, now: () => 0 },
      onLate: (_, t) => late.push(t),
    });
    // Ingested at 500 s, events of 1 to 130 s. Writer 0 runs ahead, then says it reached 500 s.
    run(task, [from(0, 500_000, { type: 'a', ts: 1_000 }), from(0, 500_000, { type: 'a', ts: 130_000 }), watermark(0, 500_000)]);
    run(task, [watermark(1, 500_000)]);
    expect(task.outputs.lanes.get('counts') ?? []).toEqual([]);
    // Writer 1's events are far behind 500 s, and behind writer 0's: none is late.
    run(task, [from(1, 500_000, { type: 'a', ts: 2_000 }), from(1, 500_000, { type: 'a', ts: 72_000 })]);
    expect(late).toEqual([]);
    // Time is min(130, 72) s: [0, 60 s) closed at 60 + 10 s.
    expect(closed(task.outputs.lanes.get('counts'))).toEqual(['{"key":"a","start":0,"end":60000}=2']);
    task.outputs.clear();
    run(task, [from(1, 500_000, { type: 'a', ts: 131_000 })]);
    // min(130, 131) s closes [60, 120 s).
    expect(closed(task.outputs.lanes.get('counts'))).toEqual(['{"key":"a","start":60000,"end":120000}=1']);
    expect(late).toEqual([]);
  });

  it('stops waiting for a writer silent for idleMs, and a watermark record then closes windows without a record', async () => {
    let wall = 0;
    const { task } = await newTask(perType('tumbling', 'final'), 0, {
      sub: 1,
      time: { writers: (t) => (t === REPARTITION ? 2 : 0), idleMs: 1_000, now: () => wall },
    });
    run(task, [from(0, 500_000, { type: 'a', ts: 1_000 }), from(1, 500_000, { type: 'a', ts: 2_000 })]);
    run(task, [from(0, 500_000, { type: 'a', ts: 75_000 })]);
    // Writer 1 holds the time at 2 s.
    expect(task.outputs.lanes.get('counts') ?? []).toEqual([]);
    wall = 1_001;
    // Writer 1 goes on writing to other partitions only: its watermark moves, but says nothing of its event times here.
    run(task, [watermark(1, 501_000)]);
    expect(closed(task.outputs.lanes.get('counts'))).toEqual(['{"key":"a","start":0,"end":60000}=2']);
  });
});
