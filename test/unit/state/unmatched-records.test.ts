import { describe, expect, it } from 'vitest';
import { serdes } from '../../../lib/index.ts';
import type { Serde } from '../../../lib/serde/serde.ts';
import { MemoryKeyValueStore } from '../../../lib/state/memory-store.ts';
import {
  unmatchedKeySerde,
  UnmatchedRecords,
  unmatchedValueSerde,
  type JoinSide,
  type UnmatchedKey,
} from '../../../lib/state/unmatched-records.ts';

const key = serdes.string as Serde<unknown>;
const values = unmatchedValueSerde({ left: serdes.string as Serde<unknown>, right: serdes.json() });
const memory = () => new MemoryKeyValueStore<UnmatchedKey, { side: JoinSide; value: unknown }>('u', { key: unmatchedKeySerde(key), value: values });
const add = (records: UnmatchedRecords, side: JoinSide, k: string, time: number, value: unknown) => records.add(side, k, Buffer.from(k), time, value);
const listed = (records: UnmatchedRecords) => records.records().map((r) => `${r.time}${r.side === 'left' ? 'L' : 'R'}${r.key}=${JSON.stringify(records.value(r))}`);

describe('unmatched record serdes', () => {
  it('key: [time][side][seq][key]; value: [side][bytes of that side’s serde]', () => {
    const serde = unmatchedKeySerde(key);
    const written = serde.serialize({ time: 2, side: 'left', seq: 1, key: 'k' });
    expect(written).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x6b]));
    expect(serde.deserialize(written)).toEqual({ time: 2, side: 'left', seq: 1, key: 'k' });
    expect(serde.deserialize(serde.serialize({ time: 2, side: 'right', seq: 0, key: '' }))).toEqual({ time: 2, side: 'right', seq: 0, key: '' });
    expect(values.serialize({ side: 'left', value: 'v' })).toEqual(Buffer.from([1, 0x76]));
    expect(values.deserialize(values.serialize({ side: 'right', value: { n: 1 } }))).toEqual({ side: 'right', value: { n: 1 } });
    expect(values.name).toBe('either(string, json)');
  });
});

describe('UnmatchedRecords', () => {
  it('lists records as Kafka Streams emits them: by time, right before left, by key bytes, then as they came', () => {
    const records = new UnmatchedRecords(memory(), [], key);
    add(records, 'left', 'b', 5, 'l1');
    add(records, 'left', 'a', 5, 'l2');
    add(records, 'right', 'z', 5, 'r1');
    add(records, 'left', 'a', 5, 'l3');
    add(records, 'left', 'a', 3, 'l4');
    expect(listed(records)).toEqual(['3La="l4"', '5Rz="r1"', '5La="l2"', '5La="l3"', '5Lb="l1"']);
    expect(records.oldest()).toBe(3);
  });

  it('a partner takes every record of its key, time and side out; delete takes one', () => {
    const store = memory();
    const records = new UnmatchedRecords(store, [], key);
    add(records, 'left', 'a', 5, 'l1');
    add(records, 'left', 'a', 5, 'l2');
    add(records, 'left', 'a', 6, 'l3');
    add(records, 'right', 'a', 5, 'r1');
    records.matched('left', Buffer.from('a'), 5);
    expect(listed(records)).toEqual(['5Ra="r1"', '6La="l3"']);
    records.delete(records.records()[0]!);
    expect(listed(records)).toEqual(['6La="l3"']);
    records.matched('left', Buffer.from('b'), 6);
    expect(store.changes().filter((c) => c.value === null)).toHaveLength(3);
  });

  it('comes back from its keys, numbering new records after the largest', () => {
    const store = memory();
    const first = new UnmatchedRecords(store, [], key);
    add(first, 'right', 'a', 9, { n: 1 });
    store.flush();
    const again = new UnmatchedRecords(store, [{ time: 9, side: 'right', key: 'a', seq: 0 }], key);
    add(again, 'right', 'a', 9, { n: 2 });
    expect(listed(again)).toEqual(['9Ra={"n":1}', '9Ra={"n":2}']);
    expect(new UnmatchedRecords(memory(), [], key).oldest()).toBeUndefined();
  });
});
