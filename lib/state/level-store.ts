import { ClassicLevel } from 'classic-level';
import type { KeyValue } from '../graph/nodes.ts';
import type { InputRecord } from '../kafka/client.ts';
import type { Serde } from '../serde/serde.ts';
import type { KeyValueStore, RangeOptions } from './key-value-store.ts';

interface Pending<V> {
  readonly key: Buffer;
  /** Undefined for a delete. */
  readonly value: V | undefined;
  readonly bytes: Buffer | null;
}

/** A change as it goes to the changelog: the key's bytes and the value's (null deletes). */
export interface StoreChange {
  readonly key: Buffer;
  readonly value: Buffer | null;
}

/**
 * A KeyValueStore on LevelDB (classic-level). Writes wait in memory: `changes()` hands them to
 * the changelog and keeps them as staged until `flush()` writes what was staged in one batch.
 * Under exactly-once several stagings may go by before the transaction holding them commits
 * and they are flushed; reads see the newest write of a key, pending, staged or on disk.
 */
export class LevelKeyValueStore<K, V> implements KeyValueStore<K, V> {
  readonly name: string;
  readonly #db: ClassicLevel<Buffer, Buffer>;
  readonly #serdes: { readonly key: Serde<K>; readonly value: Serde<V> };
  /** By the key's bytes read as latin1: a string that maps one-to-one onto the bytes. */
  readonly #pending = new Map<string, Pending<V>>();
  /** Handed to the changelog, not yet on disk: by the key's bytes, as `#pending`. */
  readonly #staged = new Map<string, Pending<V>>();

  private constructor(name: string, db: ClassicLevel<Buffer, Buffer>, serdes: { key: Serde<K>; value: Serde<V> }) {
    this.name = name;
    this.#db = db;
    this.#serdes = serdes;
  }

  static async open<K, V>(
    name: string,
    directory: string,
    serdes: { key: Serde<K>; value: Serde<V> },
  ): Promise<LevelKeyValueStore<K, V>> {
    const db = new ClassicLevel<Buffer, Buffer>(directory, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    return new LevelKeyValueStore(name, db, serdes);
  }

  get(key: K): V | undefined {
    const bytes = this.#serdes.key.serialize(key);
    const id = bytes.toString('latin1');
    const pending = this.#pending.get(id) ?? this.#staged.get(id);
    if (pending !== undefined) return pending.value;
    const stored = this.#db.getSync(bytes);
    return stored === undefined ? undefined : this.#serdes.value.deserialize(stored);
  }

  put(key: K, value: V): void {
    const bytes = this.#serdes.key.serialize(key);
    this.#pending.set(bytes.toString('latin1'), { key: bytes, value, bytes: this.#serdes.value.serialize(value) });
  }

  delete(key: K): void {
    const bytes = this.#serdes.key.serialize(key);
    this.#pending.set(bytes.toString('latin1'), { key: bytes, value: undefined, bytes: null });
  }

  async *range(options: RangeOptions<K> = {}): AsyncIterable<KeyValue<K, V>> {
    const iterator = this.#db.iterator({
      ...(options.from === undefined ? {} : { gte: this.#serdes.key.serialize(options.from) }),
      ...(options.to === undefined ? {} : { lte: this.#serdes.key.serialize(options.to) }),
      limit: options.limit ?? -1,
    });
    for await (const [key, value] of iterator) {
      yield { key: this.#serdes.key.deserialize(key), value: this.#serdes.value.deserialize(value) };
    }
  }

  /** The writes since the last call, one per key (the latest), for the changelog: from now on staged. */
  changes(): StoreChange[] {
    const changes: StoreChange[] = [];
    for (const [id, p] of this.#pending) {
      changes.push({ key: p.key, value: p.bytes });
      this.#staged.set(id, p);
    }
    this.#pending.clear();
    return changes;
  }

  /** Writes not on disk yet, pending or staged. */
  get pendingCount(): number {
    return this.#pending.size + this.#staged.size;
  }

  /** Writes what was staged to disk in one batch. */
  async flush(): Promise<void> {
    if (this.#staged.size === 0) return;
    const batch = this.#db.batch();
    for (const p of this.#staged.values()) {
      if (p.bytes === null) batch.del(p.key);
      else batch.put(p.key, p.bytes);
    }
    await batch.write();
    this.#staged.clear();
  }

  /** Applies changelog records as they are: the changelog holds whole values, not deltas. */
  async apply(records: readonly InputRecord[]): Promise<void> {
    const batch = this.#db.batch();
    for (const r of records) {
      if (r.key === null) continue;
      if (r.value === null) batch.del(r.key);
      else batch.put(r.key, r.value);
    }
    await batch.write();
  }

  /** Forgets pending and staged writes that could not be committed: their records come again. */
  discardPending(): void {
    this.#pending.clear();
    this.#staged.clear();
  }

  close(): Promise<void> {
    return this.#db.close();
  }
}
