import type { KeyValue } from '../graph/nodes.ts';

/**
 * A task's local, persistent map from keys to values. Reads and writes are synchronous so the
 * processing of a batch never waits on disk: writes gather in memory and reach the disk (and
 * the changelog) once per commit.
 */
export interface KeyValueStore<K, V> {
  readonly name: string;
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  delete(key: K): void;
  /** Entries with `from <= key <= to` in key-byte order, as committed to disk. */
  range(options?: RangeOptions<K>): AsyncIterable<KeyValue<K, V>>;
}

export interface RangeOptions<K> {
  readonly from?: K;
  readonly to?: K;
  readonly limit?: number;
}
