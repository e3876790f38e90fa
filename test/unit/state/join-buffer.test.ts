import { describe, expect, it } from 'vitest';
import { serdes } from '../../../lib/index.ts';
import type { Serde } from '../../../lib/serde/serde.ts';
import { bufferedKeySerde, JoinBuffer, type BufferedKey } from '../../../lib/state/join-buffer.ts';
import { MemoryKeyValueStore } from '../../../lib/state/memory-store.ts';

const key = serdes.string as Serde<unknown>;
const memory = () => new MemoryKeyValueStore<BufferedKey, unknown>('b', { key: bufferedKeySerde(key), value: serdes.json() });
const bytes = (k: string) => Buffer.from(k);
const put = (buffer: JoinBuffer, k: string, time: number, value: unknown) => buffer.put(k, bytes(k), time, value);

describe('bufferedKeySerde', () => {
  it('writes [key length][key][time][seq], big-endian, and reads it back', () => {
    const serde = bufferedKeySerde(key);
    const written = serde.serialize({ key: 'ab', time: 258, seq: 3 });
    expect(written).toEqual(Buffer.from([0, 0, 0, 2, 0x61, 0x62, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 3]));
    expect(serde.deserialize(written)).toEqual({ key: 'ab', time: 258, seq: 3 });
    expect(serde.name).toBe('buffered(string)');
  });
});

/** A stream time past every record: the buffer's own newest record counts. */
const ALL = Number.POSITIVE_INFINITY;

describe('JoinBuffer', () => {
  it("fetches a key's records in [from, to], by time, records of one time in the order they came", () => {
    const buffer = new JoinBuffer(memory(), [], key, 100);
    put(buffer, 'a', 20, 'x');
    put(buffer, 'a', 10, 'y');
    put(buffer, 'a', 20, 'z');
    put(buffer, 'b', 15, 'w');
    expect(buffer.fetch(bytes('a'), 0, 100, ALL)).toEqual([{ time: 10, value: 'y' }, { time: 20, value: 'x' }, { time: 20, value: 'z' }]);
    expect(buffer.fetch(bytes('a'), 11, 20, ALL)).toEqual([{ time: 20, value: 'x' }, { time: 20, value: 'z' }]);
    expect(buffer.fetch(bytes('a'), 10, 19, ALL)).toEqual([{ time: 10, value: 'y' }]);
    expect(buffer.fetch(bytes('c'), 0, 100, ALL)).toEqual([]);
    expect(buffer.newest).toBe(20);
  });

  it('hides records more than the retention behind the newest, as Kafka Streams window stores do; expire() deletes them', () => {
    const store = memory();
    const buffer = new JoinBuffer(store, [], key, 10);
    put(buffer, 'a', 5, 'old');
    put(buffer, 'a', 6, 'kept');
    put(buffer, 'a', 15, 'new');
    // Seen from 15 - 10 + 1 = 6 on.
    expect(buffer.fetch(bytes('a'), 0, 100, ALL).map((p) => p.value)).toEqual(['kept', 'new']);
    expect(buffer.fetch(bytes('a'), 0, 5, ALL)).toEqual([]);
    buffer.expire(ALL);
    expect(store.changes().filter((c) => c.value === null)).toHaveLength(1);
    expect(buffer.fetch(bytes('a'), 0, 100, ALL).map((p) => p.value)).toEqual(['kept', 'new']);
  });

  it('counts the retention back from the stream time when that is earlier: the other side may still be catching up', () => {
    const store = memory();
    const buffer = new JoinBuffer(store, [], key, 10);
    put(buffer, 'a', 5, 'old');
    put(buffer, 'a', 15, 'new');
    // The join's time is held at 8 by the other side: 5 is still within 10 of it.
    expect(buffer.fetch(bytes('a'), 0, 100, 8).map((p) => p.value)).toEqual(['old', 'new']);
    buffer.expire(8);
    expect(store.changes().filter((c) => c.value === null)).toHaveLength(0);
    buffer.expire(20);
    expect(buffer.fetch(bytes('a'), 0, 100, 20).map((p) => p.value)).toEqual(['new']);
  });

  it('comes back from its keys: records, the newest time, and sequence numbers after the largest', () => {
    const store = memory();
    const first = new JoinBuffer(store, [], key, 100);
    put(first, 'a', 7, 'x');
    put(first, 'a', 7, 'y');
    store.flush();
    const again = new JoinBuffer(store, [{ key: 'a', time: 7, seq: 0 }, { key: 'a', time: 7, seq: 1 }], key, 100);
    expect(again.newest).toBe(7);
    put(again, 'a', 7, 'z');
    expect(again.fetch(bytes('a'), 7, 7, ALL).map((p) => p.value)).toEqual(['x', 'y', 'z']);
  });
});
