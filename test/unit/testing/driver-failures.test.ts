import { describe, expect, it } from 'vitest';
import { deadLetterHeaders, serdes, topology, tumbling, type ErrorPolicy } from '../../../lib/index.ts';
import { TopologyTestDriver } from '../../../lib/testing/index.ts';

const text = { key: serdes.string, value: serdes.string };
const h = deadLetterHeaders;

/** Doubles `n`; throws on 13, and records each try. */
function doubling(tries: number[] = [], errors?: ErrorPolicy) {
  return topology('doubles')
    .stream('in', { key: serdes.string, value: serdes.json<{ n: number }>() })
    .mapValues(
      (v) => {
        tries.push(v.n);
        if (v.n === 13) throw new RangeError('thirteen is unlucky');
        return v.n * 2;
      },
      { name: 'double', ...(errors === undefined ? {} : { errors }) },
    )
    .to('out', { key: serdes.string, value: serdes.json<number>() });
}

describe('TopologyTestDriver failures', () => {
  it('tries a failing record 1 + retries times, at once, then dead-letters it with the headers a runner writes', async () => {
    const tries: number[] = [];
    // A minute of backoff a runner would wait out; the driver does not.
    const driver = new TopologyTestDriver(doubling(tries), { wallClockTime: 5_000, errors: { backoff: { initialMs: 60_000 } } });
    const started = performance.now();
    await driver.input('in').pipeInputs([
      { key: 'a', value: { n: 1 }, timestamp: 10 },
      { key: 'b', value: { n: 13 }, timestamp: 11, headers: { trace: 'abc' } },
      { key: 'c', value: { n: 2 }, timestamp: 12 },
    ]);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(tries).toEqual([1, 13, 13, 13, 13, 2]);
    expect(driver.output('out').readOutputs().map((r) => [r.key, r.value])).toEqual([['a', 2], ['c', 4]]);
    const [letter, ...more] = driver.output('doubles-dlq', text).readOutputs();
    expect(more).toEqual([]);
    const { [h.errorStack]: stack, ...headers } = letter!.headers;
    expect([letter!.key, letter!.value, letter!.timestamp]).toEqual(['b', '{"n":13}', 11]);
    expect(headers).toEqual({
      trace: 'abc',
      [h.topic]: 'in',
      [h.partition]: '0',
      [h.offset]: '1',
      [h.timestamp]: '11',
      [h.node]: 'double',
      [h.attempts]: '4',
      [h.errorClass]: 'RangeError',
      [h.errorMessage]: 'thirteen is unlucky',
      [h.appId]: 'doubles',
      [h.deadLetteredAt]: '5000',
    });
    expect(String(stack)).toMatch(/^RangeError: thirteen is unlucky\n\s+at /);
    expect(driver.stats()).toMatchObject({ consumed: 3, produced: 3, retries: 3, processingErrors: 1, deadLettered: 1, deserializationErrors: 0 });
    await driver.close();
  });

  it('dead-letters bytes the source cannot read at once, from the source node', async () => {
    const driver = new TopologyTestDriver(doubling());
    await driver.input('in', { value: serdes.string }).pipeInput('bad', '{not json', { timestamp: 3 });
    const letters = driver.output('doubles-dlq', text).readOutputs();
    expect(letters.map((r) => [r.key, r.value, r.headers[h.node], r.headers[h.attempts], r.headers[h.errorClass]])).toEqual([
      ['bad', '{not json', 'source-0', '1', 'SyntaxError'],
    ]);
    expect(driver.stats()).toMatchObject({ consumed: 1, deserializationErrors: 1, deadLettered: 1, retries: 0 });
    await driver.close();
  });

  it("takes a node's own policy over the driver's: its dead-letter topic, its retries", async () => {
    const tries: number[] = [];
    const driver = new TopologyTestDriver(doubling(tries, { retries: 1, deadLetterTopic: 'unlucky' }), { errors: { retries: 5 } });
    await driver.input('in').pipeInput('b', { n: 13 }, { timestamp: 0 });
    expect(tries).toEqual([13, 13]);
    expect(driver.output('unlucky', text).readOutputs().map((r) => [r.value, r.headers[h.attempts]])).toEqual([['{"n":13}', '2']]);
    expect(driver.output('doubles-dlq').isEmpty()).toBe(true);
    await driver.close();
  });

  it("with onExhausted: 'skip' drops the record and goes on", async () => {
    const driver = new TopologyTestDriver(doubling(), { errors: { retries: 0, onExhausted: 'skip' } });
    await driver.input('in').pipeInputs([{ key: 'b', value: { n: 13 } }, { key: 'c', value: { n: 3 } }]);
    expect(driver.output('out').readOutputs().map((r) => r.value)).toEqual([6]);
    // Nothing is ever dead-lettered: there is no such topic.
    expect(() => driver.output('doubles-dlq')).toThrow('the topology writes no topic doubles-dlq; it writes out');
    expect(driver.stats()).toMatchObject({ consumed: 2, processingErrors: 1, deadLettered: 0 });
    await driver.close();
  });

  it("with onExhausted: 'fail' rejects the pipe with the record's error, and takes the next record", async () => {
    const driver = new TopologyTestDriver(doubling(), { errors: { retries: 1, onExhausted: 'fail' } });
    const input = driver.input('in');
    await expect(input.pipeInput('b', { n: 13 }, { timestamp: 0 })).rejects.toMatchObject({
      code: 'PROCESSING',
      message: 'double: thirteen is unlucky',
      context: { topic: 'in', partition: 0, offset: '0', node: 'double' },
    });
    await input.pipeInput('c', { n: 4 }, { timestamp: 1 });
    expect(driver.output('out').readOutputs().map((r) => r.value)).toEqual([8]);
    expect(driver.stats()).toMatchObject({ consumed: 1, retries: 1, processingErrors: 1, deadLettered: 0 });
    await driver.close();
  });

  it('dead-letters an enrich call that keeps failing, after its retries', async () => {
    let calls = 0;
    const app = topology('lookup')
      .stream('in', text)
      .enrich(async () => {
        calls++;
        throw new TypeError('service down');
      }, { name: 'call' })
      .to('out', text);
    const driver = new TopologyTestDriver(app, { errors: { retries: 2 } });
    await driver.input('in').pipeInput('k', 'v', { timestamp: 0 });
    expect(calls).toBe(3);
    expect(driver.output('lookup-dlq', text).readOutputs().map((r) => [r.value, r.headers[h.node], r.headers[h.attempts], r.headers[h.errorClass]])).toEqual([
      ['v', 'call', '3', 'TypeError'],
    ]);
    await driver.close();
  });

  it("counts late records, and with late: 'dead-letter' writes them to the dead-letter topic with their window", async () => {
    const app = topology('late');
    app
      .stream('in', text)
      .groupByKey()
      .windowedBy(tumbling(10_000), { late: 'dead-letter' })
      .count({ name: 'counts' })
      .toStream()
      .to('out', { key: serdes.json(), value: serdes.json<number>() });
    const driver = new TopologyTestDriver(app, { wallClockTime: 99 });
    await driver.input('in').pipeInputs([
      { key: 'a', value: 'first', timestamp: 15_000 },
      { key: 'a', value: 'late', timestamp: 3_000 },
      { key: 'b', value: 'on time', timestamp: 19_000 },
    ]);
    expect(driver.output('out').readOutputs().map((r) => [r.key, r.value])).toEqual([
      [{ key: 'a', start: 10_000, end: 20_000 }, 1],
      [{ key: 'b', start: 10_000, end: 20_000 }, 1],
    ]);
    const letters = driver.output('late-dlq', text).readOutputs();
    expect(letters.map((r) => [r.key, r.value, r.timestamp])).toEqual([['a', 'late', 3_000]]);
    expect(letters[0]!.headers).toMatchObject({
      [h.offset]: '1',
      [h.node]: 'counts',
      [h.attempts]: '0',
      [h.errorClass]: 'StreamrunError',
      [h.errorMessage]: 'counts: late record at 3000: window [0, 10000) closed at stream time 15000',
      [h.window]: '0,10000',
      [h.streamTime]: '15000',
      [h.deadLetteredAt]: '99',
    });
    expect(driver.stats()).toMatchObject({ lateRecords: 1, deadLettered: 0 });
    await driver.close();
  });
});
