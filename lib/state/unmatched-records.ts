import type { Serde } from '../serde/serde.ts';
import type { KeyValueStore } from './key-value-store.ts';
import { SortedList } from './sorted-list.ts';

export type JoinSide = 'left' | 'right';

/** Where an unmatched record is kept: its time, its side, its key, and a sequence number. */
export interface UnmatchedKey {
  readonly time: number;
  readonly side: JoinSide;
  readonly key: unknown;
  readonly seq: number;
}

/** Stores an unmatched record under [time][side][seq][key]. */
export function unmatchedKeySerde(keySerde: Serde<unknown>): Serde<UnmatchedKey> {
  return {
    name: `unmatched(${keySerde.name})`,
    serialize({ time, side, key, seq }) {
      const keyBytes = keySerde.serialize(key);
      const bytes = Buffer.allocUnsafe(17 + keyBytes.length);
      bytes.writeBigInt64BE(BigInt(time), 0);
      bytes.writeUInt8(side === 'left' ? 1 : 0, 8);
      bytes.writeBigInt64BE(BigInt(seq), 9);
      keyBytes.copy(bytes, 17);
      return bytes;
    },
    deserialize: (bytes) => ({
      time: Number(bytes.readBigInt64BE(0)),
      side: bytes.readUInt8(8) === 1 ? 'left' : 'right',
      seq: Number(bytes.readBigInt64BE(9)),
      key: keySerde.deserialize(bytes.subarray(17)),
    }),
  };
}

/** Keeps an unmatched record's value with the serde of the side it came from. */
export function unmatchedValueSerde(serdes: { readonly left: Serde<unknown>; readonly right: Serde<unknown> }): Serde<{ side: JoinSide; value: unknown }> {
  return {
    name: `either(${serdes.left.name}, ${serdes.right.name})`,
    serialize: ({ side, value }) => Buffer.concat([Buffer.of(side === 'left' ? 1 : 0), serdes[side].serialize(value)]),
    deserialize(bytes) {
      const side = bytes.readUInt8(0) === 1 ? 'left' : 'right';
      return { side, value: serdes[side].deserialize(bytes.subarray(1)) };
    },
  };
}

/** An unmatched record as the index holds it. */
export interface Unmatched extends UnmatchedKey {
  readonly bytes: Buffer;
}

// Kafka Streams' outer join store orders by [time][side: right before left][key bytes].
const inOrder = (a: Unmatched, b: Unmatched) =>
  a.time - b.time || (a.side === b.side ? 0 : a.side === 'right' ? -1 : 1) || Buffer.compare(a.bytes, b.bytes) || a.seq - b.seq;

const group = (time: number, side: JoinSide, bytes: Buffer) => `${time}/${side}/${bytes.toString('latin1')}`;

/**
 * The records of a left or outer stream–stream join that found no partner yet, in the order
 * Kafka Streams emits them once their windows close; a partner coming later takes every
 * record of its key and time out of here.
 */
export class UnmatchedRecords {
  readonly #store: KeyValueStore<UnmatchedKey, { side: JoinSide; value: unknown }>;
  readonly #all = new SortedList<Unmatched>(inOrder);
  /** The records of each time, side and key. */
  readonly #groups = new Map<string, Unmatched[]>();
  #seq = 0;

  constructor(store: KeyValueStore<UnmatchedKey, { side: JoinSide; value: unknown }>, keys: readonly UnmatchedKey[], keySerde: Serde<unknown>) {
    this.#store = store;
    for (const key of keys) {
      this.#track({ ...key, bytes: keySerde.serialize(key.key) });
      if (key.seq >= this.#seq) this.#seq = key.seq + 1;
    }
  }

  /** The oldest record's time, if there is one. */
  oldest(): number | undefined {
    return this.#all.first()?.time;
  }

  add(side: JoinSide, key: unknown, bytes: Buffer, time: number, value: unknown): void {
    const record = { time, side, key, seq: this.#seq++, bytes };
    this.#store.put(record, { side, value });
    this.#track(record);
  }

  /** Every record, in the order they go out, as of now: the list may change while it is walked. */
  records(): Unmatched[] {
    return this.#all.toArray();
  }

  value(record: Unmatched): unknown {
    return this.#store.get(record)?.value;
  }

  delete(record: Unmatched): void {
    this.#store.delete(record);
    this.#all.delete(record);
    const id = group(record.time, record.side, record.bytes);
    const rest = this.#groups.get(id)?.filter((r) => r.seq !== record.seq) ?? [];
    if (rest.length === 0) this.#groups.delete(id);
    else this.#groups.set(id, rest);
  }

  /** Deletes the records of `side` with this key and time: a record of the other side just joined them. */
  matched(side: JoinSide, bytes: Buffer, time: number): void {
    for (const record of this.#groups.get(group(time, side, bytes)) ?? []) this.delete(record);
  }

  #track(record: Unmatched): void {
    this.#all.insert(record);
    const id = group(record.time, record.side, record.bytes);
    const records = this.#groups.get(id);
    if (records === undefined) this.#groups.set(id, [record]);
    else records.push(record);
  }
}
