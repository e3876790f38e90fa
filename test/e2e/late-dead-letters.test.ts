import { describe, expect, it } from 'vitest';
import { joinWindows, serdes, topology, tumbling } from '../../lib/index.ts';
import { createTopic, produce, readAllSettled, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

// A recent hour: the broker's retention deletes records timestamped long ago.
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000;

describe("late: 'dead-letter'", () => {
  const startRunner = useRunners();

  it('sends a late record to the dead-letter topic as it came, with the window and the stream time, and counts it', async () => {
    const input = uniqueName('late-in');
    const output = `${input}-counts`;
    await createTopic(input, 1);
    const app = topology(uniqueName('late'));
    app
      .stream(input, { key: serdes.string, value: serdes.string })
      .groupByKey()
      .windowedBy(tumbling(10_000), { late: 'dead-letter' })
      .count({ name: 'counts' })
      .toStream()
      .mapValues(String)
      .to(output, { key: serdes.json(), value: serdes.string });
    const runner = await startRunner(app);
    await produce(input, [
      { key: 'a', value: 'first', timestamp: String(base + 15_000) },
      { key: 'a', value: 'late', timestamp: String(base + 3_000), headers: { trace: 'abc' } },
      { key: 'b', value: 'on time', timestamp: String(base + 19_000) },
    ]);
    const settled = { group: runner.appId, inputs: [input] };
    expect((await readAllSettled(output, settled)).map((r) => r.value)).toEqual(['1', '1']);
    const [dead, ...more] = await readAllSettled(`${runner.appId}-dlq`, settled);
    expect(more).toEqual([]);
    expect([dead!.key, dead!.value, dead!.timestamp]).toEqual(['a', 'late', String(base + 3_000)]);
    const headers = Object.fromEntries(Object.entries(dead!.headers ?? {}).map(([k, v]) => [k, String(v)]));
    expect(headers).toMatchObject({
      trace: 'abc',
      'streamrun.original.topic': input,
      'streamrun.original.partition': '0',
      'streamrun.original.offset': '1',
      'streamrun.node': 'counts',
      'streamrun.error.message': `counts: late record at ${base + 3_000}: window [${base}, ${base + 10_000}) closed at stream time ${base + 15_000}`,
      'streamrun.window': `${base},${base + 10_000}`,
      'streamrun.stream.time': String(base + 15_000),
    });
    expect(runner.stats().lateRecords).toBe(1);
  });

  it('of a stream–stream join: the record after its join window closed is not joined but dead-lettered, with its window', async () => {
    const orders = uniqueName('late-orders');
    const payments = uniqueName('late-payments');
    const output = `${orders}-paid`;
    await createTopic(orders, 1);
    await createTopic(payments, 1);
    const text = { key: serdes.string, value: serdes.string };
    const app = topology(uniqueName('late-join'));
    app
      .stream(orders, text)
      .leftJoin(app.stream(payments, text), (o, p) => `${o}+${p}`, joinWindows(5_000).grace(2_000), { name: 'paid', late: 'dead-letter' })
      .to(output, text);
    const runner = await startRunner(app);
    await produce(payments, [
      { key: 'a', value: 'p12', timestamp: String(base + 12_000) },
      { key: 'b', value: 'p20', timestamp: String(base + 20_000) },
    ]);
    // Both payments read, and the order topic read to its end: the order comes live, after its window closed.
    await waitFor('the payments consumed', () => runner.stats().consumed === 2);
    await produce(orders, [{ key: 'a', value: 'o10', timestamp: String(base + 10_000) }]);
    const settled = { group: runner.appId, inputs: [orders, payments] };
    const [dead, ...more] = await readAllSettled(`${runner.appId}-dlq`, settled);
    expect(more).toEqual([]);
    expect([dead!.key, dead!.value, dead!.headers?.['streamrun.node']?.toString()]).toEqual(['a', 'o10', 'paid-left']);
    expect(dead!.headers?.['streamrun.window']?.toString()).toBe(`${base + 5_000},${base + 15_000}`);
    expect(dead!.headers?.['streamrun.stream.time']?.toString()).toBe(String(base + 20_000));
    expect(await readAllSettled(output, settled)).toEqual([]);
    expect(runner.stats().lateRecords).toBe(1);
  });
});
