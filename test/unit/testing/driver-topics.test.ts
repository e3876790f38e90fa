import { describe, expect, it } from 'vitest';
import { serdes, StreamrunError, topology, tumbling } from '../../../lib/index.ts';
import { TopologyTestDriver } from '../../../lib/testing/index.ts';

const text = { key: serdes.string, value: serdes.string };

/** Words of each line, upper-cased, keyed by the word: a topic in, a topic out. */
function shout() {
  return topology('shout')
    .stream('lines', { key: serdes.string, value: serdes.json<{ text: string }>() })
    .flatMapValues((line) => line.text.split(' '))
    .map((word, line) => ({ key: word, value: `${word.toUpperCase()} (${line})` }))
    .to('words', text);
}

describe('TopologyTestDriver topics', () => {
  it("pipes with the source's serdes and reads with the sink's, each record with its timestamp and headers", async () => {
    const driver = new TopologyTestDriver(shout());
    await driver.input('lines').pipeInput('l1', { text: 'a b' }, { timestamp: 7, headers: { trace: 't1' } });
    expect(driver.output('words').readOutputs()).toEqual([
      { key: 'a', value: 'A (l1)', timestamp: 7, headers: { trace: 't1' } },
      { key: 'b', value: 'B (l1)', timestamp: 7, headers: { trace: 't1' } },
    ]);
    await driver.close();
  });

  it('reads one record at a time, undefined once none is left, and each record once over every handle', async () => {
    const driver = new TopologyTestDriver(shout());
    const words = driver.output('words');
    expect(words.isEmpty()).toBe(true);
    expect(words.readOutput()).toBeUndefined();
    await driver.input('lines').pipeInputs([
      { key: 'l1', value: { text: 'a' }, timestamp: 1 },
      { key: 'l2', value: { text: 'b c' }, timestamp: 2 },
    ]);
    expect(words.isEmpty()).toBe(false);
    expect(words.readOutput()).toMatchObject({ key: 'a', timestamp: 1 });
    // Another handle on the topic reads on from there.
    expect(driver.output('words').readOutputs().map((r) => r.key)).toEqual(['b', 'c']);
    expect(words.readOutputs()).toEqual([]);
    expect(words.isEmpty()).toBe(true);
    await driver.close();
  });

  it('takes serdes given for a topic instead of the topology’s', async () => {
    const driver = new TopologyTestDriver(shout());
    await driver.input('lines', { value: serdes.string }).pipeInput('l1', '{"text":"x"}', { timestamp: 0 });
    expect(driver.output('words', { value: serdes.buffer }).readOutputs().map((r) => [r.key, r.value])).toEqual([['x', Buffer.from('X (l1)')]]);
    await driver.close();
  });

  it('stamps records piped without a timestamp with the wall clock, and moves it only when told', async () => {
    const driver = new TopologyTestDriver(shout(), { wallClockTime: 1_000 });
    const lines = driver.input('lines');
    await lines.pipeInput('l1', { text: 'a' });
    driver.advanceWallClockTime(500);
    await lines.pipeInput('l2', { text: 'b' });
    expect(driver.output('words').readOutputs().map((r) => r.timestamp)).toEqual([1_000, 1_500]);
    await driver.close();
  });

  it('reads the latest value per key as a compacted topic keeps it: keys by their bytes, a null value deletes', async () => {
    const app = topology('latest');
    app
      .stream('in', text)
      .groupByKey()
      .windowedBy(tumbling(10))
      .count({ name: 'counts' })
      .toStream()
      .to('per-window', { key: serdes.json(), value: serdes.json<number>() });
    // A table–table join passes a row's end on as a null value.
    const users = app.table('users', text, { name: 'users' });
    users.join(app.table('cities', text, { name: 'cities' }), (user, city) => `${user} in ${city}`, { name: 'profiles', value: serdes.string }).toStream().to('profiles', text);
    const driver = new TopologyTestDriver(app);
    await driver.input('in').pipeInputs([1, 2, 12].map((timestamp) => ({ key: 'a', value: 'x', timestamp })));
    // Window keys are objects: equal bytes make one key.
    expect([...driver.output('per-window').readKeyValuesToMap()]).toEqual([
      [{ key: 'a', start: 0, end: 10 }, 2],
      [{ key: 'a', start: 10, end: 20 }, 1],
    ]);
    await driver.input('cities').pipeInputs([
      { key: 'ann', value: 'Oslo', timestamp: 1 },
      { key: 'bob', value: 'Rome', timestamp: 1 },
    ]);
    await driver.input('users').pipeInputs([
      { key: 'ann', value: 'Ann', timestamp: 2 },
      { key: 'bob', value: 'Bob', timestamp: 3 },
      { key: 'ann', value: null, timestamp: 4 },
      { key: 'bob', value: 'Robert', timestamp: 5 },
    ]);
    expect(driver.output('profiles').readKeyValuesToMap()).toEqual(new Map([['bob', 'Robert in Rome']]));
    await driver.close();
  });

  it('refuses a map of records without a key, and reads none of them', async () => {
    const driver = new TopologyTestDriver(topology('keyless').stream('in', text).to('out', text));
    await driver.input('in').pipeInput(null, 'v', { timestamp: 0 });
    const out = driver.output('out');
    expect(() => out.readKeyValuesToMap()).toThrow('out holds a record without a key: read it with readOutputs()');
    expect(out.readOutputs()).toEqual([{ key: null, value: 'v', timestamp: 0, headers: {} }]);
    await driver.close();
  });

  it('names the topics it has when asked for one the topology neither reads nor writes', () => {
    const driver = new TopologyTestDriver(shout());
    expect(() => driver.input('words')).toThrow(new StreamrunError('INVALID_OPTIONS', 'the topology reads no topic words; it reads lines'));
    expect(() => driver.output('lines')).toThrow('the topology writes no topic lines; it writes words, shout-dlq');
  });

  it('refuses a timestamp Kafka would not keep, and records after close', async () => {
    const driver = new TopologyTestDriver(shout());
    const lines = driver.input('lines');
    await expect(lines.pipeInput('l', { text: 'a' }, { timestamp: -1 })).rejects.toThrow('timestamp: expected ms since the epoch (≥ 0, as Kafka keeps them), got -1');
    await expect(lines.pipeInput('l', { text: 'a' }, { timestamp: 1.5 })).rejects.toThrow('got 1.5');
    await driver.close();
    await expect(lines.pipeInput('l', { text: 'a' }, { timestamp: 0 })).rejects.toThrow('closed: it takes no more records');
  });

  it('runs records piped without awaiting one after the other, in order', async () => {
    const driver = new TopologyTestDriver(shout());
    const lines = driver.input('lines');
    await Promise.all(['a', 'b', 'c'].map((word, i) => lines.pipeInput(`l${i}`, { text: word }, { timestamp: i })));
    expect(driver.output('words').readOutputs().map((r) => r.value)).toEqual(['A (l0)', 'B (l1)', 'C (l2)']);
    await driver.close();
  });
});
