import type { OutputBuffer } from '../runtime/output-buffer.ts';
import { stageChanges } from './changelog.ts';
import { MemoryKeyValueStore } from './memory-store.ts';
import type { StateStores } from './state-stores.ts';
import type { StoreSpec } from './task-stores.ts';
import { WindowState, type WindowKey } from './window-store.ts';

interface MemoryStore {
  readonly spec: StoreSpec;
  readonly store: MemoryKeyValueStore<unknown, unknown>;
  readonly windows: WindowState | undefined;
}

/**
 * A task's stores in memory, for the test harness: the same specs, serdes, window state and
 * changelog records as TaskStores, without LevelDB, restores or checkpoints.
 */
export class MemoryStores implements StateStores {
  readonly #partition: number;
  readonly #stores: Map<string, MemoryStore>;

  private constructor(partition: number, stores: Map<string, MemoryStore>) {
    this.#partition = partition;
    this.#stores = stores;
  }

  static async open(specs: readonly StoreSpec[], partition: number): Promise<MemoryStores> {
    const stores = new Map<string, MemoryStore>();
    for (const spec of specs) {
      const store = new MemoryKeyValueStore(spec.store, spec.serdes);
      const windows =
        spec.window === undefined
          ? undefined
          : await WindowState.load(store as unknown as MemoryKeyValueStore<WindowKey, unknown>, spec.window);
      stores.set(spec.store, { spec, store, windows });
    }
    return new MemoryStores(partition, stores);
  }

  get(name: string): MemoryKeyValueStore<unknown, unknown> {
    return this.#open(name).store;
  }

  windows(name: string): WindowState {
    const windows = this.#open(name).windows;
    if (windows === undefined) throw new Error(`store ${name} is not a window store`);
    return windows;
  }

  names(): string[] {
    return [...this.#stores.keys()];
  }

  stageChangelog(outputs: OutputBuffer): void {
    for (const { spec, store } of this.#stores.values()) {
      if (!spec.sourceTopic) stageChanges(outputs, spec.changelog, this.#partition, store.changes());
    }
  }

  async flush(): Promise<void> {
    for (const { store } of this.#stores.values()) store.flush();
  }

  discardPending(): void {
    for (const { store } of this.#stores.values()) store.discardPending();
  }

  async close(): Promise<void> {}

  #open(name: string): MemoryStore {
    const open = this.#stores.get(name);
    if (open === undefined) throw new Error(`no store ${name} in this task`);
    return open;
  }
}
