import type { ProducedOffset, TopicPartitionOffset } from '../kafka/client.ts';
import type { OutputBuffer } from '../runtime/output-buffer.ts';
import type { KeyValueStore } from './key-value-store.ts';
import type { StoreSpec } from './task-stores.ts';
import type { Timestamped, WindowState } from './window-store.ts';

/**
 * The stores of one task, as the task and the store queries use them: on LevelDB with
 * changelogs in a runner (TaskStores), in memory in the test harness (MemoryStores).
 */
export interface StateStores {
  get(name: string): KeyValueStore<unknown, unknown>;
  /** Reads a table's current values, bare: an aggregate's store keeps each beside its time. */
  tableValues(name: string): (key: unknown) => unknown;
  windows(name: string): WindowState;
  /** The keys an indexed store held when it opened, once: the node that indexes them keeps them from then on. */
  takeKeys(name: string): readonly unknown[];
  /** The names of the stores, for queries. */
  names(): string[];
  /** Puts every pending write into the outputs, bound for the task's changelog partition. */
  stageChangelog(outputs: OutputBuffer): void;
  /**
   * The broker acknowledged what `stageChangelog` staged (`acks`), and `positions` are the input
   * offsets that go with it: noted for the checkpoints the next `flush` writes.
   */
  acknowledge(acks: readonly ProducedOffset[], positions: readonly TopicPartitionOffset[]): void;
  /** Once what was acknowledged is committed: the staged writes become the stores' state on disk. */
  flush(): Promise<void>;
  /** Bytes of each store's files, by store (none for stores in memory). */
  diskBytes(): Promise<Map<string, number>>;
  /** Forgets pending writes that could not be committed: their records come again. */
  discardPending(): void;
  close(): Promise<void>;
}

/** One open store of a task, with its spec and, for a window store, its open windows. */
export interface NamedStore<S> {
  readonly spec: StoreSpec;
  readonly store: S;
  readonly windows: WindowState | undefined;
  /** An indexed store's keys as it opened, until its node takes them. */
  keys: readonly unknown[] | undefined;
}

/** Every key of a store, in key-byte order: what an indexed store's node builds its index from. */
export async function keysOf(store: KeyValueStore<unknown, unknown>): Promise<unknown[]> {
  const keys: unknown[] = [];
  for await (const { key } of store.range()) keys.push(key);
  return keys;
}

/** Finds a task's stores by name; the kinds of task stores differ in how they keep and commit them. */
export abstract class StoresByName<S extends KeyValueStore<unknown, unknown>, E extends NamedStore<S>> {
  protected readonly partition: number;
  protected readonly stores: ReadonlyMap<string, E>;

  protected constructor(partition: number, stores: ReadonlyMap<string, E>) {
    this.partition = partition;
    this.stores = stores;
  }

  get(name: string): S {
    return this.#open(name).store;
  }

  tableValues(name: string): (key: unknown) => unknown {
    const { spec, store } = this.#open(name);
    if (spec.timestamped !== true) return (key) => store.get(key);
    return (key) => (store.get(key) as Timestamped | undefined)?.value;
  }

  windows(name: string): WindowState {
    const windows = this.#open(name).windows;
    if (windows === undefined) throw new Error(`store ${name} is not a window store`);
    return windows;
  }

  takeKeys(name: string): readonly unknown[] {
    const open = this.#open(name);
    if (!open.spec.indexed) throw new Error(`store ${name} is not an indexed store`);
    const keys = open.keys ?? [];
    open.keys = undefined;
    return keys;
  }

  names(): string[] {
    return [...this.stores.keys()];
  }

  #open(name: string): E {
    const open = this.stores.get(name);
    if (open === undefined) throw new Error(`no store ${name} in this task`);
    return open;
  }
}
