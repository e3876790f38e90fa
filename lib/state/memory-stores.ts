import type { OutputBuffer } from '../runtime/output-buffer.ts';
import { stageChanges } from './changelog.ts';
import { MemoryKeyValueStore } from './memory-store.ts';
import { keysOf, StoresByName, type NamedStore, type StateStores } from './state-stores.ts';
import type { StoreSpec } from './task-stores.ts';
import { WindowState, type Timestamped, type WindowKey } from './window-store.ts';

type MemoryStore = NamedStore<MemoryKeyValueStore<unknown, unknown>>;

/**
 * A task's stores in memory, for the test harness: the same specs, serdes, window state and
 * changelog records as TaskStores, without LevelDB, restores or checkpoints.
 */
export class MemoryStores extends StoresByName<MemoryKeyValueStore<unknown, unknown>, MemoryStore> implements StateStores {
  private constructor(partition: number, stores: Map<string, MemoryStore>) {
    super(partition, stores);
  }

  static async open(specs: readonly StoreSpec[], partition: number): Promise<MemoryStores> {
    const stores = new Map<string, MemoryStore>();
    for (const spec of specs) {
      const store = new MemoryKeyValueStore(spec.store, spec.serdes);
      const windows =
        spec.window === undefined
          ? undefined
          : await WindowState.load(store as unknown as MemoryKeyValueStore<WindowKey, Timestamped>, spec.window);
      const keys = spec.indexed ? await keysOf(store) : undefined;
      stores.set(spec.store, { spec, store, windows, keys });
    }
    return new MemoryStores(partition, stores);
  }

  stageChangelog(outputs: OutputBuffer): void {
    for (const { spec, store } of this.stores.values()) {
      if (!spec.sourceTopic) stageChanges(outputs, spec.changelog, this.partition, store.changes());
    }
  }

  acknowledge(): void {}

  async diskBytes(): Promise<Map<string, number>> {
    return new Map();
  }

  async flush(): Promise<void> {
    for (const { store } of this.stores.values()) store.flush();
  }

  discardPending(): void {
    for (const { store } of this.stores.values()) store.discardPending();
  }

  async close(): Promise<void> {}
}
