import type { ProducedOffset, TopicPartitionOffset } from '../runtime/client.ts';
import type { OutputBuffer } from '../runtime/output-buffer.ts';
import type { KeyValueStore } from './key-value-store.ts';
import type { WindowState } from './window-store.ts';

/**
 * The stores of one task, as the task and the store queries use them: on LevelDB with
 * changelogs in a runner (TaskStores), in memory in the test harness (MemoryStores).
 */
export interface StateStores {
  get(name: string): KeyValueStore<unknown, unknown>;
  windows(name: string): WindowState;
  /** The names of the stores, for queries. */
  names(): string[];
  /** Puts every pending write into the outputs, bound for the task's changelog partition. */
  stageChangelog(outputs: OutputBuffer): void;
  /** Once the outputs are acknowledged: the pending writes become the stores' state. */
  flush(acks: readonly ProducedOffset[], positions: readonly TopicPartitionOffset[]): Promise<void>;
  /** Forgets pending writes that could not be committed: their records come again. */
  discardPending(): void;
  close(): Promise<void>;
}
