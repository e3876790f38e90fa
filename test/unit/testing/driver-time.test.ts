import { describe, expect, it } from 'vitest';
import { serdes, topology, tumbling } from '../../../lib/index.ts';
import { TopologyTestDriver } from '../../../lib/testing/index.ts';

const text = { key: serdes.string, value: serdes.string };
const window = { key: serdes.json<{ key: string; start: number; end: number }>(), value: serdes.json<number>() };
/** `a[0,10)=3@9`: key, window in seconds, count, timestamp in seconds. */
const show = (r: { key: { key: string; start: number; end: number } | null; value: number | null; timestamp: number }) =>
  `${r.key!.key}[${r.key!.start / 1000},${r.key!.end / 1000})=${r.value}@${r.timestamp / 1000}`;

describe('TopologyTestDriver time', () => {
  it("closes windows as later records move stream time past end + grace, with emit: 'final' once each", async () => {
    const app = topology('final');
    app
      .stream('in', text)
      .groupByKey()
      .windowedBy(tumbling(10_000).grace(5_000))
      .count({ name: 'counts', emit: 'final' })
      .toStream()
      .to('out', window);
    const driver = new TopologyTestDriver(app);
    const input = driver.input('in');
    const out = driver.output('out', window);
    // The README's example, key@seconds: each line is what comes out after the record.
    const steps: [string, number, string[]][] = [
      ['a', 1, []],
      ['a', 4, []],
      ['b', 3, []],
      ['a', 12, []],
      ['a', 9, []],
      ['b', 16, ['a[0,10)=3@9', 'b[0,10)=1@3']],
      ['a', 8, []],
      ['a', 21, []],
      ['b', 26, ['a[10,20)=1@12', 'b[10,20)=1@16']],
      ['a', 40, ['a[20,30)=1@21', 'b[20,30)=1@26']],
    ];
    for (const [key, seconds, emitted] of steps) {
      await input.pipeInput(key, 'x', { timestamp: seconds * 1000 });
      expect(out.readOutputs().map(show)).toEqual(emitted);
    }
    // a@8 came after [0,10) closed at 16 s.
    expect(driver.stats().lateRecords).toBe(1);
    // A closed window has left the store.
    expect(await driver.windowStore('counts').fetchAll()).toEqual([{ key: { key: 'a', start: 40_000, end: 50_000 }, value: 1 }]);
    await driver.close();
  });

  it('runs records through two repartition topics and three sub-topologies, in order', async () => {
    const app = topology('twice');
    app
      .stream('words', text)
      .groupBy((word) => word)
      .count({ name: 'per-word' })
      .toStream()
      // How many words have been seen this often: each new count moves a word up one.
      .groupBy((count) => String(count), { key: serdes.string })
      .count({ name: 'per-count' })
      .toStream()
      .to('histogram', { key: serdes.string, value: serdes.json<number>() });
    const driver = new TopologyTestDriver(app);
    await driver.input('words').pipeInputs(['a', 'b', 'a', 'c', 'a'].map((word, i) => ({ key: null, value: word, timestamp: i })));
    expect(driver.output('histogram').readOutputs().map((r) => `${r.key}=${r.value}@${r.timestamp}`)).toEqual(['1=1@0', '1=2@1', '2=1@2', '1=3@3', '3=1@4']);
    // A repartition topic reads like any: each record with the time its writer had reached.
    expect(driver.output('twice-per-word-repartition').readOutputs().map((r) => [r.key, r.headers['streamrun.time']])).toEqual([
      ['a', '0:0'],
      ['b', '0:1'],
      ['a', '0:2'],
      ['c', '0:3'],
      ['a', '0:4'],
    ]);
    expect(driver.stats()).toMatchObject({ lateRecords: 0, deadLettered: 0 });
    await driver.close();
  });

  it('lets a quiet repartition writer hold windows back for watermarkIdleMs of wall-clock time, then not', async () => {
    const app = topology('idle');
    const totals = app
      .stream('orders', text)
      .groupBy((item) => item)
      .count({ name: 'per-item' })
      .toStream()
      .mapValues(String);
    // Clicks and the repartitioned totals reach one window: the repartition topic's writer holds its time back.
    app
      .stream('clicks', text)
      .merge(totals)
      .groupByKey()
      .windowedBy(tumbling(10))
      .count({ name: 'windows', emit: 'final' })
      .toStream()
      .to('out', window);
    const driver = new TopologyTestDriver(app, { wallClockTime: 0, watermarkIdleMs: 1_000 });
    const clicks = driver.input('clicks');
    const out = driver.output('out', window);
    await clicks.pipeInput('k', 'x', { timestamp: 5 });
    await clicks.pipeInput('k', 'x', { timestamp: 25 });
    // No order came: [0,10) stays open while the writer of the repartition topic may still speak.
    expect(out.readOutputs()).toEqual([]);
    driver.advanceWallClockTime(1_001);
    await clicks.pipeInput('k', 'x', { timestamp: 26 });
    expect(out.readOutputs().map((r) => [r.key, r.value, r.timestamp])).toEqual([[{ key: 'k', start: 0, end: 10 }, 1, 5]]);
    await driver.close();
  });

  it('runs under another application id, as a runner started with appId does', async () => {
    const app = topology('built-as');
    app.stream('in', text).groupBy((v) => v).count({ name: 'n' }).toStream().to('out', { key: serdes.string, value: serdes.json<number>() });
    const driver = new TopologyTestDriver(app, { appId: 'runs-as' });
    expect(driver.appId).toBe('runs-as');
    await driver.input('in').pipeInput(null, 'v', { timestamp: 0 });
    expect(driver.output('runs-as-n-repartition').readOutputs()).toHaveLength(1);
    expect(driver.output('runs-as-n-changelog').readOutputs()).toHaveLength(1);
    expect(() => driver.output('built-as-n-repartition')).toThrow('the topology writes no topic built-as-n-repartition');
    await driver.close();
  });
});
