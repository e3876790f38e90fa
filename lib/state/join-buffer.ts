import type { Serde } from '../serde/serde.ts';
import { keyAndTimesSerde } from './key-and-times.ts';
import type { KeyValueStore } from './key-value-store.ts';
import { SortedList } from './sorted-list.ts';

/** Where a buffered record is kept: its key, its time, and a sequence number, as records of one key and time may repeat. */
export interface BufferedKey {
  readonly key: unknown;
  readonly time: number;
  readonly seq: number;
}

/** Stores a buffered record under [key length][key][time][seq], so one key's records sit together in time order. */
export function bufferedKeySerde(keySerde: Serde<unknown>): Serde<BufferedKey> {
  return keyAndTimesSerde('buffered', keySerde, (b) => [b.key, b.time, b.seq], (key, time, seq) => ({ key, time, seq }));
}

interface Entry extends BufferedKey {
  readonly id: string;
}

/** A record of the other side that falls in a record's window. */
export interface Partner {
  readonly time: number;
  readonly value: unknown;
}

const byTime = (a: Entry, b: Entry) => a.time - b.time || a.seq - b.seq;

/**
 * One side of a stream–stream join: its records by key and time, indexed in memory, as Kafka
 * Streams' join window store keeps them. A record stays `retention` (window size + grace)
 * behind the newest record's time; older ones nobody sees again, so they are deleted. The
 * retention counts back from the join's stream time instead when that is earlier: while the
 * other side is still catching up, its records may yet want this side's old ones.
 */
export class JoinBuffer {
  readonly #store: KeyValueStore<BufferedKey, unknown>;
  readonly #retention: number;
  readonly #ofKey = new Map<string, SortedList<Entry>>();
  readonly #all = new SortedList<Entry>(byTime);
  #seq = 0;
  /** The newest record's time, which the retention counts back from. */
  #newest = Number.NEGATIVE_INFINITY;

  constructor(store: KeyValueStore<BufferedKey, unknown>, keys: readonly BufferedKey[], keySerde: Serde<unknown>, retention: number) {
    this.#store = store;
    this.#retention = retention;
    for (const key of keys) {
      this.#track({ ...key, id: keySerde.serialize(key.key).toString('latin1') });
      if (key.seq >= this.#seq) this.#seq = key.seq + 1;
    }
  }

  get newest(): number {
    return this.#newest;
  }

  /**
   * The records of the key with these bytes and a time in [from, to], oldest first, as far as
   * the retention, counted back from `streamTime` or the newest record's time, lets them be seen.
   */
  fetch(keyBytes: Buffer, from: number, to: number, streamTime: number): Partner[] {
    const earliest = Math.max(from, this.#earliest(streamTime));
    const entries = this.#ofKey.get(keyBytes.toString('latin1'));
    if (entries === undefined || to < earliest) return [];
    return entries.range((e) => e.time >= earliest, (e) => e.time > to).map((e) => ({ time: e.time, value: this.#store.get(e) }));
  }

  put(key: unknown, keyBytes: Buffer, time: number, value: unknown): void {
    const entry = { key, time, seq: this.#seq++, id: keyBytes.toString('latin1') };
    this.#store.put(entry, value);
    this.#track(entry);
  }

  /** Deletes the records the retention hides for good. */
  expire(streamTime: number): void {
    const earliest = this.#earliest(streamTime);
    for (let oldest = this.#all.first(); oldest !== undefined && oldest.time < earliest; oldest = this.#all.first()) {
      this.#store.delete(oldest);
      this.#all.delete(oldest);
      const ofKey = this.#ofKey.get(oldest.id)!;
      ofKey.delete(oldest);
      if (ofKey.size === 0) this.#ofKey.delete(oldest.id);
    }
  }

  #earliest(streamTime: number): number {
    return Math.min(this.#newest, streamTime) - this.#retention + 1;
  }

  #track(entry: Entry): void {
    if (entry.time > this.#newest) this.#newest = entry.time;
    let ofKey = this.#ofKey.get(entry.id);
    if (ofKey === undefined) this.#ofKey.set(entry.id, (ofKey = new SortedList(byTime)));
    ofKey.insert(entry);
    this.#all.insert(entry);
  }
}
