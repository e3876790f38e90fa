import { describe, expect, it } from 'vitest';
import { serdes } from '../../../lib/index.ts';
import type { Serde } from '../../../lib/serde/serde.ts';
import { MemoryKeyValueStore } from '../../../lib/state/memory-store.ts';
import { SlidingWindowStore } from '../../../lib/state/sliding-windows.ts';
import { timestampedSerde, windowKeySerde, type Timestamped, type WindowKey } from '../../../lib/state/window-store.ts';

const key = serdes.string as Serde<unknown>;
const memory = () =>
  new MemoryKeyValueStore<WindowKey, Timestamped>('s', { key: windowKeySerde(key), value: timestampedSerde(serdes.json()) });
const at = (k: string, start: number) => ({ key: k, start, end: start + 10, bytes: Buffer.from(k) });
const starts = (store: SlidingWindowStore, k: string, from = 0, to = 1000) => store.fetch(Buffer.from(k), from, to).map((w) => w.window.start);

describe('SlidingWindowStore', () => {
  it("fetches a key's windows by start time, within the asked range", () => {
    const store = new SlidingWindowStore(memory(), [], key, 1000);
    for (const start of [30, 10, 20]) store.put(at('a', start), { value: start, timestamp: start + 10 });
    store.put(at('b', 15), { value: 'b', timestamp: 25 });
    expect(starts(store, 'a')).toEqual([10, 20, 30]);
    expect(starts(store, 'a', 11, 30)).toEqual([20, 30]);
    expect(starts(store, 'c')).toEqual([]);
    expect(store.fetch(Buffer.from('a'), 20, 20)).toEqual([{ window: at('a', 20), value: { value: 20, timestamp: 30 } }]);
  });

  it('hides windows starting a retention or more before the newest start, as a Kafka Streams window store does, and expire() deletes them', () => {
    const backing = memory();
    const store = new SlidingWindowStore(backing, [], key, 20);
    store.put(at('a', 10), { value: 1, timestamp: 20 });
    store.put(at('b', 11), { value: 1, timestamp: 21 });
    store.put(at('a', 30), { value: 2, timestamp: 40 });
    // The newest start is 30: starts below 30 - 20 + 1 are gone.
    expect(starts(store, 'a')).toEqual([30]);
    expect(starts(store, 'b')).toEqual([11]);
    expect(store.fetch(Buffer.from('a'), 0, 10)).toEqual([]);
    store.expire();
    expect(store.all().map((w) => [w.window.key, w.window.start])).toEqual([['b', 11], ['a', 30]]);
    expect(backing.changes().filter((c) => c.value === null)).toHaveLength(1);
  });

  it('comes back from the keys of its store: windows, and the newest start the retention counts from', () => {
    const backing = memory();
    const first = new SlidingWindowStore(backing, [], key, 20);
    first.put(at('a', 12), { value: 'x', timestamp: 22 });
    first.put(at('a', 31), { value: 'y', timestamp: 35 });
    backing.flush();
    const keys = [{ key: 'a', start: 12, end: 22 }, { key: 'a', start: 31, end: 41 }];
    const again = new SlidingWindowStore(backing, keys, key, 20);
    expect(starts(again, 'a')).toEqual([12, 31]);
    expect(again.all().map((w) => w.value)).toEqual([{ value: 'x', timestamp: 22 }, { value: 'y', timestamp: 35 }]);
    again.put(at('a', 33), { value: 'z', timestamp: 33 });
    expect(starts(again, 'a')).toEqual([31, 33]);
  });
});
