import { describe, expect, it } from 'vitest';
import { serdes, topology, tumbling } from '../../lib/index.ts';
import { createTopic, produce, readAllSettled, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';

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
});
