import type { Windowed } from '../dsl/windows.ts';
import type { KeyValue } from '../graph/nodes.ts';
import { entryOrder, storedValue } from '../runtime/local-store-queries.ts';
import type { Serde } from '../serde/serde.ts';
import type { RangeOptions } from '../state/key-value-store.ts';
import type { WindowKey } from '../state/window-store.ts';
import type { HarnessStore } from './task-harness.ts';

/**
 * A key-value store of the topology (a `count`, `reduce`, `aggregate`, table or table join), as
 * the HTTP store queries read it: values without the time an aggregate keeps beside them.
 * Reads are async, as a store's ranges are.
 *
 * @example
 * expect(await driver.store<string, number>('counts').get('the')).toBe(3);
 */
export interface TestKeyValueStore<K, V> {
  readonly name: string;
  /** The key's value, or undefined when the store has none. */
  get(key: K): Promise<V | undefined>;
  /** Entries with `from <= key <= to` (both optional), in key-byte order, at most `limit`. */
  range(options?: RangeOptions<K>): Promise<KeyValue<K, V>[]>;
  /** Every entry, in key-byte order. */
  all(): Promise<KeyValue<K, V>[]>;
}

/** Window start times, ms since the epoch, both ends included; either may be left out. */
export interface StartTimes {
  readonly from?: number;
  readonly to?: number;
}

/**
 * A window store of the topology (a windowed or session aggregation): its open windows, as the
 * HTTP store queries read them (a closed window has left the store).
 *
 * @example
 * const windows = await driver.windowStore<string, number>('per-10s').fetch('a', { from: 0, to: 60_000 });
 * // [{ key: { key: 'a', start: 10_000, end: 20_000 }, value: 2 }]
 */
export interface TestWindowStore<K, V> {
  readonly name: string;
  /** The windows of `key` whose start lies in the range, by start time, then end. */
  fetch(key: K, range?: StartTimes): Promise<KeyValue<Windowed<K>, V>[]>;
  /** The windows of every key whose start lies in the range, by start time, then end, then key. */
  fetchAll(range?: StartTimes): Promise<KeyValue<Windowed<K>, V>[]>;
}

/** The store behind a view, once the driver opened its tasks. */
export type StoreAccess = () => Promise<HarnessStore>;

export class TestKeyValueStoreImpl<K, V> implements TestKeyValueStore<K, V> {
  readonly name: string;
  readonly #access: StoreAccess;

  constructor(name: string, access: StoreAccess) {
    this.name = name;
    this.#access = access;
  }

  async get(key: K): Promise<V | undefined> {
    const { spec, stores } = await this.#access();
    const stored = stores.get(this.name).get(key);
    return stored === undefined ? undefined : (storedValue(spec, stored) as V);
  }

  async range(options: RangeOptions<K> = {}): Promise<KeyValue<K, V>[]> {
    const { spec, stores } = await this.#access();
    const entries: KeyValue<K, V>[] = [];
    for await (const { key, value } of stores.get(this.name).range(options)) entries.push({ key: key as K, value: storedValue(spec, value) as V });
    return entries;
  }

  all(): Promise<KeyValue<K, V>[]> {
    return this.range();
  }
}

export class TestWindowStoreImpl<K, V> implements TestWindowStore<K, V> {
  readonly name: string;
  readonly #access: StoreAccess;
  /** The serde of the keys inside the windows: a key's windows are those whose key has its bytes. */
  readonly #keySerde: Serde<unknown>;

  constructor(name: string, keySerde: Serde<unknown>, access: StoreAccess) {
    this.name = name;
    this.#keySerde = keySerde;
    this.#access = access;
  }

  async fetch(key: K, range: StartTimes = {}): Promise<KeyValue<Windowed<K>, V>[]> {
    const bytes = this.#keySerde.serialize(key);
    const windows = await this.#windows(range, (window) => this.#keySerde.serialize(window.key).equals(bytes));
    return windows.sort((a, b) => a.key.start - b.key.start || a.key.end - b.key.end);
  }

  async fetchAll(range: StartTimes = {}): Promise<KeyValue<Windowed<K>, V>[]> {
    const { spec } = await this.#access();
    const windows = await this.#windows(range, () => true);
    return windows.sort((a, b) => Buffer.compare(entryOrder(spec, a.key), entryOrder(spec, b.key)));
  }

  async #windows(range: StartTimes, wanted: (window: WindowKey) => boolean): Promise<KeyValue<Windowed<K>, V>[]> {
    const { from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY } = range;
    const { spec, stores } = await this.#access();
    const windows: KeyValue<Windowed<K>, V>[] = [];
    for await (const { key, value } of stores.get(this.name).range()) {
      const window = key as WindowKey;
      if (window.start < from || window.start > to || !wanted(window)) continue;
      windows.push({ key: window as Windowed<K>, value: storedValue(spec, value) as V });
    }
    return windows;
  }
}
