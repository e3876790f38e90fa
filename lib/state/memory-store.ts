import type { KeyValue } from '../graph/nodes.ts';
import type { Serde } from '../serde/serde.ts';
import type { KeyValueStore, RangeOptions } from './key-value-store.ts';
import type { StoreChange } from './level-store.ts';

/**
 * A KeyValueStore in memory that behaves like the LevelDB one: keys are compared by their
 * serialized bytes, values are kept serialized (so a value mutated after `put` does not change
 * the store, and a serde that cannot read its own bytes fails here too), writes stay pending
 * until `flush()`, and `range` sees only what was flushed.
 */
export class MemoryKeyValueStore<K, V> implements KeyValueStore<K, V> {
  readonly name: string;
  readonly #serdes: { readonly key: Serde<K>; readonly value: Serde<V> };
  /** By the key's bytes read as latin1, a string that maps one-to-one onto the bytes. */
  readonly #flushed = new Map<string, StoreChange>();
  readonly #pending = new Map<string, StoreChange>();

  constructor(name: string, serdes: { key: Serde<K>; value: Serde<V> }) {
    this.name = name;
    this.#serdes = serdes;
  }

  get(key: K): V | undefined {
    const id = this.#serdes.key.serialize(key).toString('latin1');
    const change = this.#pending.get(id) ?? this.#flushed.get(id);
    return change?.value == null ? undefined : this.#serdes.value.deserialize(change.value);
  }

  put(key: K, value: V): void {
    const bytes = this.#serdes.key.serialize(key);
    this.#pending.set(bytes.toString('latin1'), { key: bytes, value: this.#serdes.value.serialize(value) });
  }

  delete(key: K): void {
    const bytes = this.#serdes.key.serialize(key);
    this.#pending.set(bytes.toString('latin1'), { key: bytes, value: null });
  }

  async *range(options: RangeOptions<K> = {}): AsyncIterable<KeyValue<K, V>> {
    const from = options.from === undefined ? undefined : this.#serdes.key.serialize(options.from);
    const to = options.to === undefined ? undefined : this.#serdes.key.serialize(options.to);
    const entries = [...this.#flushed.values()]
      .filter((e) => (from === undefined || Buffer.compare(e.key, from) >= 0) && (to === undefined || Buffer.compare(e.key, to) <= 0))
      .sort((a, b) => Buffer.compare(a.key, b.key))
      .slice(0, options.limit ?? Number.POSITIVE_INFINITY);
    for (const e of entries) yield { key: this.#serdes.key.deserialize(e.key), value: this.#serdes.value.deserialize(e.value!) };
  }

  /** The writes not yet flushed, one per key (the latest), for the changelog. */
  changes(): StoreChange[] {
    return [...this.#pending.values()];
  }

  flush(): void {
    for (const [id, change] of this.#pending) {
      if (change.value === null) this.#flushed.delete(id);
      else this.#flushed.set(id, change);
    }
    this.#pending.clear();
  }

  discardPending(): void {
    this.#pending.clear();
  }
}
