import { describe, expect, it } from 'vitest';
import { serdes } from '../../../lib/index.ts';
import type { Serde } from '../../../lib/serde/serde.ts';
import { MemoryKeyValueStore } from '../../../lib/state/memory-store.ts';
import { timestampedSerde, WindowState, windowKeySerde, type Timestamped, type WindowKey } from '../../../lib/state/window-store.ts';

function windowStore(keySerde: Serde<unknown> = serdes.string as Serde<unknown>) {
  return new MemoryKeyValueStore<WindowKey, Timestamped>('w', { key: windowKeySerde(keySerde), value: timestampedSerde(serdes.json() as Serde<unknown>) });
}
const win = (key: unknown, start: number, end: number): WindowKey => ({ key, start, end });

describe('windowKeySerde', () => {
  it('is named after the key serde', () => {
    expect(windowKeySerde(serdes.string as Serde<unknown>).name).toBe('windowed(string)');
  });

  it('writes [key length][key][start][end], big-endian, and reads it back', () => {
    const serde = windowKeySerde(serdes.string as Serde<unknown>);
    const bytes = serde.serialize(win('ab', 1, 258));
    expect(bytes).toEqual(
      Buffer.from([0, 0, 0, 2, 0x61, 0x62, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 2]),
    );
    expect(serde.deserialize(bytes)).toEqual(win('ab', 1, 258));
    expect(serde.deserialize(serde.serialize(win('key', -5, 1_700_000_000_000)))).toEqual(win('key', -5, 1_700_000_000_000));
    expect(serde.deserialize(serde.serialize(win('', 3, 4)))).toEqual(win('', 3, 4));
  });

  it('orders one key’s windows together, by start time', () => {
    const serde = windowKeySerde(serdes.string as Serde<unknown>);
    const sorted = [win('a', 20, 30), win('b', 0, 10), win('a', 0, 10), win('a', 10, 20)]
      .map((w) => serde.serialize(w))
      .sort(Buffer.compare)
      .map((b) => serde.deserialize(b));
    expect(sorted).toEqual([win('a', 0, 10), win('a', 10, 20), win('a', 20, 30), win('b', 0, 10)]);
  });
});

describe('WindowState', () => {
  it('closes a window once stream time reaches its end plus the grace; closedBefore only after that', async () => {
    const state = await WindowState.load(windowStore(), { grace: 5, key: serdes.string as Serde<unknown> });
    expect(state.streamTime).toBe(Number.NEGATIVE_INFINITY);
    expect(state.closed(-1_000)).toBe(false);
    state.advanceTo(15);
    expect(state.streamTime).toBe(15);
    expect([state.closed(9), state.closed(10), state.closed(11)]).toEqual([true, true, false]);
    expect([state.closedBefore(9), state.closedBefore(10), state.closedBefore(11)]).toEqual([true, false, false]);
    state.advanceTo(12);
    expect(state.streamTime).toBe(15);
    state.advanceTo(16);
    expect(state.streamTime).toBe(16);
    expect(state.closedBefore(10)).toBe(true);
  });

  it('expires the closed windows by end time, then key bytes, then start, with their aggregates', async () => {
    const store = windowStore();
    const state = await WindowState.load(store, { grace: 0, key: serdes.string as Serde<unknown> });
    state.put(win('z', 20, 30), 'z30', 20 + 1);
    state.put(win('b', 0, 10), 'b10', 0 + 1);
    state.put(win('c', 7, 10), 'c7', 7 + 1);
    state.put(win('a', 5, 10), 'a10', 5 + 1);
    state.put(win('c', 3, 10), 'c3', 3 + 1);
    state.put(win('c', 5, 10), 'c5', 5 + 1);
    state.put(win('a', 15, 20), 'a20', 15 + 1);
    expect(state.expire()).toEqual([]);
    state.advanceTo(9);
    expect(state.expire()).toEqual([]);
    state.advanceTo(20);
    expect(state.expire()).toEqual([
      { key: 'a', start: 5, end: 10, value: 'a10', timestamp: 6 },
      { key: 'b', start: 0, end: 10, value: 'b10', timestamp: 1 },
      { key: 'c', start: 3, end: 10, value: 'c3', timestamp: 4 },
      { key: 'c', start: 5, end: 10, value: 'c5', timestamp: 6 },
      { key: 'c', start: 7, end: 10, value: 'c7', timestamp: 8 },
      { key: 'a', start: 15, end: 20, value: 'a20', timestamp: 16 },
    ]);
    // Expired windows are deleted from the store and forgotten; the open one stays.
    expect(store.get(win('a', 5, 10))).toBeUndefined();
    expect(store.changes().filter((c) => c.value === null)).toHaveLength(6);
    expect(state.windowsOf('a')).toEqual([]);
    expect(state.windowsOf('c')).toEqual([]);
    expect(state.windowsOf('z')).toEqual([win('z', 20, 30)]);
    expect(state.expire()).toEqual([]);
    state.advanceTo(30);
    expect(state.expire()).toEqual([{ key: 'z', start: 20, end: 30, value: 'z30', timestamp: 21 }]);
    expect(state.expire()).toEqual([]);
  });

  it('orders windows closing together by the key serde’s bytes, not by the key’s value', async () => {
    const state = await WindowState.load(windowStore(serdes.json() as Serde<unknown>), { grace: 0, key: serdes.json() as Serde<unknown> });
    state.put(win(9, 0, 10), 'nine', 0 + 1);
    state.put(win(10, 0, 10), 'ten', 0 + 1);
    state.advanceTo(10);
    // JSON bytes: "10" < "9".
    expect(state.expire().map((w) => w.value)).toEqual(['ten', 'nine']);
  });

  it('expires windows by end time whatever order they were put in, within the grace', async () => {
    const state = await WindowState.load(windowStore(), { grace: 3, key: serdes.string as Serde<unknown> });
    for (const end of [50, 10, 30, 20, 40]) state.put(win('k', end - 10, end), end, end - 10 + 1);
    state.advanceTo(32);
    expect(state.expire().map((w) => w.end)).toEqual([10, 20]);
    state.advanceTo(33);
    expect(state.expire().map((w) => w.end)).toEqual([30]);
    state.advanceTo(1_000);
    expect(state.expire().map((w) => w.end)).toEqual([40, 50]);
  });

  it('lists the open windows of a key; none for a key without any', async () => {
    const state = await WindowState.load(windowStore(), { grace: 0, key: serdes.string as Serde<unknown> });
    expect(state.windowsOf('a')).toEqual([]);
    state.put(win('a', 0, 10), 1, 0 + 1);
    state.put(win('a', 10, 20), 2, 10 + 1);
    state.put(win('a', 0, 10), 3, 0 + 1);
    state.put(win('b', 0, 10), 4, 0 + 1);
    expect(state.windowsOf('a')).toEqual([win('a', 0, 10), win('a', 10, 20)]);
    expect(state.windowsOf('b')).toEqual([win('b', 0, 10)]);
    expect(state.windowsOf('c')).toEqual([]);
    expect(state.get(win('a', 0, 10))).toEqual({ value: 3, timestamp: 1 });
  });

  it('remove deletes a merged window from the store and from the open windows; its neighbours stay', async () => {
    const store = windowStore();
    const state = await WindowState.load(store, { grace: 0, key: serdes.string as Serde<unknown> });
    state.put(win('a', 0, 10), 1, 0 + 1);
    state.put(win('b', 0, 10), 2, 0 + 1);
    state.put(win('a', 20, 30), 3, 20 + 1);
    state.remove(win('a', 0, 10));
    expect(state.get(win('a', 0, 10))).toBeUndefined();
    expect(state.windowsOf('a')).toEqual([win('a', 20, 30)]);
    expect(state.windowsOf('b')).toEqual([win('b', 0, 10)]);
    state.remove(win('a', 20, 30));
    expect(state.windowsOf('a')).toEqual([]);
    state.advanceTo(100);
    expect(state.expire()).toEqual([{ key: 'b', start: 0, end: 10, value: 2, timestamp: 1 }]);
  });

  it('remove of a window it does not know only deletes it from the store', async () => {
    const store = windowStore();
    store.put(win('x', 0, 10), { value: 1, timestamp: 0 });
    store.flush();
    const state = await WindowState.load(windowStore(), { grace: 0, key: serdes.string as Serde<unknown> });
    expect(() => state.remove(win('x', 0, 10))).not.toThrow();
    state.put(win('y', 0, 10), 1, 0 + 1);
    expect(() => state.remove(win('x', 0, 10))).not.toThrow();
    expect(state.windowsOf('y')).toEqual([win('y', 0, 10)]);
    expect(() => state.remove(win('y', 50, 60))).not.toThrow();
    expect(state.windowsOf('y')).toEqual([win('y', 0, 10)]);
  });

  it('load reads back the open windows a store holds; stream time resumes from their newest record', async () => {
    const store = windowStore();
    store.put(win('a', 30, 40), { value: 'a', timestamp: 37 });
    store.put(win('b', 10, 20), { value: 'b', timestamp: 11 });
    store.put(win('b', 0, 10), { value: 'b0', timestamp: 1 });
    store.flush();
    const state = await WindowState.load(store, { grace: 2, key: serdes.string as Serde<unknown> });
    expect(state.streamTime).toBe(37);
    expect(state.windowsOf('a')).toEqual([win('a', 30, 40)]);
    expect(state.windowsOf('b')).toEqual([win('b', 0, 10), win('b', 10, 20)]);
    // Stream time 37 with grace 2: ends 10 and 20 closed, 40 not yet.
    expect(state.expire()).toEqual([
      { key: 'b', start: 0, end: 10, value: 'b0', timestamp: 1 },
      { key: 'b', start: 10, end: 20, value: 'b', timestamp: 11 },
    ]);
    state.advanceTo(41);
    expect(state.expire()).toEqual([]);
    state.advanceTo(42);
    expect(state.expire()).toEqual([{ key: 'a', start: 30, end: 40, value: 'a', timestamp: 37 }]);
  });
});

describe('timestampedSerde', () => {
  it('keeps the timestamp as a signed 64-bit big-endian integer before the value, for any time', () => {
    const serde = timestampedSerde(serdes.json() as Serde<unknown>);
    for (const timestamp of [0, 1, -1, 1_700_000_000_123, 2 ** 32, -(2 ** 40) - 7, Number.MAX_SAFE_INTEGER]) {
      const bytes = serde.serialize({ value: { n: 1 }, timestamp });
      expect(bytes.readBigInt64BE(0)).toBe(BigInt(timestamp));
      expect(bytes.subarray(8).toString()).toBe('{"n":1}');
      expect(serde.deserialize(bytes)).toEqual({ value: { n: 1 }, timestamp });
    }
    expect(serde.name).toBe('timestamped(json)');
  });
});
