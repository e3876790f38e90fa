import { describe, expect, it } from 'vitest';
import { joinWindows, serdes, session, sliding, topology, tumbling, type Topology } from '../../../lib/index.ts';
import { TaskHarness } from '../../../lib/testing/task-harness.ts';

const text = { key: serdes.string, value: serdes.string };

function counted(late: 'drop' | 'dead-letter' | undefined, windows: 'tumbling' | 'session' | 'sliding'): Topology {
  const app = topology('late');
  app
    .stream('in', text)
    .groupByKey()
    .windowedBy(
      windows === 'tumbling' ? tumbling(10) : windows === 'session' ? session(5) : sliding(5),
      late === undefined ? undefined : { late },
    )
    .count({ name: 'counts' })
    .toStream()
    .mapValues(String)
    .to('out', { key: serdes.json(), value: serdes.string });
  return app;
}

async function run(t: Topology, records: [string, number][]) {
  const harness = await TaskHarness.create(t);
  for (const [key, timestamp] of records) {
    await harness.pipe('in', { key, value: `v${timestamp}`, timestamp, headers: { trace: `t${timestamp}` } });
  }
  const result = { dlq: harness.take('late-dlq'), late: harness.late.get('counts') ?? 0, out: harness.take('out').length };
  await harness.close();
  return result;
}

describe('late records', () => {
  it('are dropped and counted by default, and with late: drop', async () => {
    for (const late of [undefined, 'drop'] as const) {
      const { dlq, late: count, out } = await run(counted(late, 'tumbling'), [['a', 15], ['a', 3]]);
      expect([dlq, count, out]).toEqual([[], 1, 1]);
    }
  });

  it('with late: dead-letter also go to the dead-letter topic, as they came, with the window and the stream time', async () => {
    const { dlq, late, out } = await run(counted('dead-letter', 'tumbling'), [['a', 15], ['b', 23], ['a', 3], ['a', 12]]);
    expect([late, out]).toEqual([2, 2]);
    expect(dlq.map((r) => [r.key?.toString(), r.value?.toString(), r.timestamp])).toEqual([
      ['a', 'v3', 3],
      ['a', 'v12', 12],
    ]);
    const headers = dlq[1]!.headers!;
    expect(headers).toMatchObject({
      trace: 't12',
      'streamrun.original.topic': 'in',
      'streamrun.original.partition': '0',
      'streamrun.original.offset': '3',
      'streamrun.original.timestamp': '12',
      'streamrun.node': 'counts',
      'streamrun.attempts': '0',
      'streamrun.error.class': 'StreamrunError',
      'streamrun.error.message': 'counts: late record at 12: window [10, 20) closed at stream time 23',
      'streamrun.app.id': 'late',
      'streamrun.window': '10,20',
      'streamrun.stream.time': '23',
    });
  });

  it('of a session name the session they would have made', async () => {
    const { dlq } = await run(counted('dead-letter', 'session'), [['a', 20], ['a', 2]]);
    expect(dlq.map((r) => r.headers!['streamrun.window'])).toEqual(['2,2']);
  });

  it('of sliding windows name the window that ends at them (t + 1 + time difference <= stream time - grace)', async () => {
    const { dlq, late } = await run(counted('dead-letter', 'sliding'), [['a', 20], ['a', 15], ['a', 14]]);
    expect(late).toBe(1);
    expect(dlq.map((r) => [r.value?.toString(), r.headers!['streamrun.window']])).toEqual([['v14', '9,14']]);
  });

  it('of sliding windows name the window the record would have made', async () => {
    const { dlq, late } = await run(counted('dead-letter', 'sliding'), [['a', 20], ['a', 2], ['a', 9]]);
    expect([late, dlq.map((r) => r.headers!['streamrun.window'])]).toEqual([2, ['0,5', '4,9']]);
  });

  it('late must be drop or dead-letter', () => {
    const grouped = topology('x').stream('in', text).groupByKey();
    expect(() => grouped.windowedBy(tumbling(10), { late: 'keep' as 'drop' })).toThrow("late must be 'drop' or 'dead-letter', got \"keep\"");
    const t = topology('y');
    expect(() => t.stream('l', text).join(t.stream('r', text), (l, r) => l + r, joinWindows(5), { late: 'keep' as 'drop' })).toThrow(
      "join() after source-0: late must be 'drop' or 'dead-letter', got \"keep\"",
    );
  });

  describe('of a stream–stream join', () => {
    const joined = (late: 'drop' | 'dead-letter') => {
      const t = topology('late');
      t.stream('l', text)
        .leftJoin(t.stream('r', text), (l, r) => `${l}+${r}`, joinWindows(5).grace(2), { name: 'pairs', late })
        .to('out', text);
      return t;
    };
    const feed = async (late: 'drop' | 'dead-letter') => {
      const harness = await TaskHarness.create(joined(late));
      // r@20 moves stream time to 20; l@10's window [5, 15] closed at 15 + 2.
      await harness.pipe('r', { key: 'a', value: 'r12', timestamp: 12 });
      await harness.pipe('r', { key: 'b', value: 'r20', timestamp: 20 });
      await harness.pipe('l', { key: 'a', value: 'l10', timestamp: 10 });
      const result = {
        out: harness.take('out').map((r) => r.value?.toString()),
        dlq: harness.take('late-dlq').map((r) => [r.value?.toString(), r.headers!['streamrun.window'], r.headers!['streamrun.stream.time']]),
        late: harness.late.get('pairs-left') ?? 0,
      };
      await harness.close();
      return result;
    };

    it('by default are counted and still joined with the partners buffered, as Kafka Streams does', async () => {
      expect(await feed('drop')).toEqual({ out: ['l10+r12'], dlq: [], late: 1 });
    });

    it('with late: dead-letter are not joined but sent to the dead-letter topic with their window and the stream time', async () => {
      expect(await feed('dead-letter')).toEqual({ out: [], dlq: [['l10', '5,15', '20']], late: 1 });
    });
  });
});
