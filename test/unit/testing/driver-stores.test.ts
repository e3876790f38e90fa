import { describe, expect, it } from 'vitest';
import { serdes, session, StreamrunError, topology, tumbling } from '../../../lib/index.ts';
import { TopologyTestDriver } from '../../../lib/testing/index.ts';

const text = { key: serdes.string, value: serdes.string };

/** Counts per key, and per key and 10 ms window, and sessions 5 ms apart (windows open for 100 ms more); a table beside. */
function counting() {
  const app = topology('stores');
  const grouped = app.stream('in', text).groupByKey();
  grouped.count({ name: 'totals' }).toStream().to('totals', { key: serdes.string, value: serdes.json<number>() });
  grouped.windowedBy(tumbling(10).grace(100)).count({ name: 'windows' }).toStream().to('windows', { key: serdes.json(), value: serdes.json<number>() });
  grouped.windowedBy(session(5).grace(100)).count({ name: 'sessions' }).toStream().to('sessions', { key: serdes.json(), value: serdes.json<number>() });
  app.table('names', text, { name: 'names' }).toStream().to('names-out', text);
  return app;
}

async function piped(times: Record<string, number[]>): Promise<TopologyTestDriver> {
  const driver = new TopologyTestDriver(counting());
  const input = driver.input('in');
  for (const [key, list] of Object.entries(times)) for (const timestamp of list) await input.pipeInput(key, 'x', { timestamp });
  return driver;
}

describe('TopologyTestDriver stores', () => {
  it('reads a key-value store by key, by key range and whole, in key-byte order, without the time kept beside a count', async () => {
    const driver = await piped({ b: [1, 2], a: [3], d: [4], c: [5, 6, 7] });
    const totals = driver.store<string, number>('totals');
    expect(await totals.get('c')).toBe(3);
    expect(await totals.get('z')).toBeUndefined();
    expect(await totals.all()).toEqual([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
      { key: 'c', value: 3 },
      { key: 'd', value: 1 },
    ]);
    expect(await totals.range({ from: 'b', to: 'c' })).toEqual([
      { key: 'b', value: 2 },
      { key: 'c', value: 3 },
    ]);
    expect(await totals.range({ from: 'b', limit: 1 })).toEqual([{ key: 'b', value: 2 }]);
    await driver.close();
  });

  it('reads a table read from a topic', async () => {
    const driver = new TopologyTestDriver(counting());
    await driver.input('names').pipeInputs([
      { key: 'a', value: 'Ann', timestamp: 0 },
      { key: 'b', value: 'Bob', timestamp: 0 },
      { key: 'a', value: null, timestamp: 0 },
    ]);
    expect(await driver.store('names').all()).toEqual([{ key: 'b', value: 'Bob' }]);
    await driver.close();
  });

  it("fetches a key's windows by start time, and every key's", async () => {
    const driver = await piped({ a: [1, 12, 25], b: [13, 21] });
    const windows = driver.windowStore<string, number>('windows');
    expect(await windows.fetch('a')).toEqual([
      { key: { key: 'a', start: 0, end: 10 }, value: 1 },
      { key: { key: 'a', start: 10, end: 20 }, value: 1 },
      { key: { key: 'a', start: 20, end: 30 }, value: 1 },
    ]);
    expect(await windows.fetch('a', { from: 5, to: 20 })).toEqual([
      { key: { key: 'a', start: 10, end: 20 }, value: 1 },
      { key: { key: 'a', start: 20, end: 30 }, value: 1 },
    ]);
    expect(await windows.fetchAll({ from: 10, to: 20 })).toEqual([
      { key: { key: 'a', start: 10, end: 20 }, value: 1 },
      { key: { key: 'b', start: 10, end: 20 }, value: 1 },
      { key: { key: 'a', start: 20, end: 30 }, value: 1 },
      { key: { key: 'b', start: 20, end: 30 }, value: 1 },
    ]);
    // Sessions are window stores too: a key's records at most 5 ms apart make one.
    expect(await driver.windowStore('sessions').fetch('a')).toEqual([
      { key: { key: 'a', start: 1, end: 1 }, value: 1 },
      { key: { key: 'a', start: 12, end: 12 }, value: 1 },
      { key: { key: 'a', start: 25, end: 25 }, value: 1 },
    ]);
    await driver.close();
  });

  it('names the stores it has, and says which kind a store is when asked the other way', async () => {
    const driver = new TopologyTestDriver(counting());
    expect(() => driver.store('count')).toThrow(new StreamrunError('INVALID_OPTIONS', 'no store named count; the topology keeps totals, windows, sessions, names'));
    expect(() => driver.store('windows')).toThrow("windows is a window store: read it with windowStore('windows')");
    expect(() => driver.windowStore('totals')).toThrow("totals is not a window store: read it with store('totals')");
    await driver.close();
  });
});
