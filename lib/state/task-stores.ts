import { access, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChangelogReader, PartitionOffsets, ProducedOffset, TopicPartitionOffset } from '../kafka/client.ts';
import type { Logger } from '../runtime/logger.ts';
import type { OutputBuffer } from '../runtime/output-buffer.ts';
import type { Serde } from '../serde/serde.ts';
import { stageChanges } from './changelog.ts';
import { readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import { LevelKeyValueStore } from './level-store.ts';
import { writingState } from './state-dir.ts';
import { crashPoint } from '../runtime/crash-points.ts';
import { keysOf, StoresByName, type NamedStore, type StateStores } from './state-stores.ts';
import { WindowState, type Timestamped, type WindowKey } from './window-store.ts';

/** A store a sub-topology keeps, and the changelog topic behind it. */
export interface StoreSpec {
  readonly store: string;
  readonly changelog: string;
  readonly serdes: { readonly key: Serde<unknown>; readonly value: Serde<unknown> };
  /**
   * Set for a window store: how long windows stay open after their end, and the serde of the
   * keys inside the windows (windows closing together are emitted in the order of its bytes).
   */
  readonly window?: { readonly grace: number; readonly key: Serde<unknown> };
  /** Set when the keys are windows (`WindowKey`): queries range over their start times. */
  readonly windowed?: boolean;
  /**
   * Set for a store whose node indexes its keys in memory (join buffers, sliding windows): the
   * keys are read once when the store opens, for the node to build its index from.
   */
  readonly indexed?: boolean;
  /**
   * Set for a table read from a topic: that topic is the changelog, so nothing is written to
   * it, and the checkpoint is the task's committed position in it.
   */
  readonly sourceTopic?: boolean;
  /** Set for an aggregate's store: values are `Timestamped`, the aggregate with its newest record's time. */
  readonly timestamped?: boolean;
}

export interface TaskStoresOptions {
  /** `<stateDir>/<appId>/<taskId>`: one LevelDB per store below it. */
  readonly directory: string;
  readonly taskId: string;
  readonly partition: number;
  readonly specs: readonly StoreSpec[];
  readonly reader: ChangelogReader;
  readonly changelogOffsets: (topic: string) => Promise<Map<number, PartitionOffsets>>;
  readonly logger: Logger;
  /**
   * After each chunk of a restore, and once with nothing left: records read back into `store`,
   * and the changelog offsets still to go.
   */
  readonly onRestore: (store: string, records: number, remaining: bigint) => void;
}

interface OpenStore extends NamedStore<LevelKeyValueStore<unknown, unknown>> {
  readonly checkpointPath: string;
  /** The changelog offset up to which the store's files hold the changelog. */
  checkpoint: bigint;
  /** Changelog records handed to the outputs since the last acknowledgement. */
  staged: number;
  /** Where the checkpoint moves on the next flush: past the last acknowledged changelog record. */
  next: bigint | undefined;
}

/**
 * The stores of one task: opened and restored from their changelogs before the task sees a
 * record, written to disk (then checkpointed) on each commit, closed when the task goes.
 */
export class TaskStores extends StoresByName<LevelKeyValueStore<unknown, unknown>, OpenStore> implements StateStores {
  readonly #directory: string;
  #closed = false;

  private constructor(partition: number, stores: Map<string, OpenStore>, directory: string) {
    super(partition, stores);
    this.#directory = directory;
  }

  static async open(options: TaskStoresOptions): Promise<TaskStores> {
    const stores = new Map<string, OpenStore>();
    try {
      for (const spec of options.specs) stores.set(spec.store, await openAndRestore(spec, options));
    } catch (error) {
      await Promise.allSettled([...stores.values()].map((s) => s.store.close()));
      throw error;
    }
    return new TaskStores(options.partition, stores, options.directory);
  }

  /** Bytes of each store's files (LevelDB's log and tables), by store. */
  async diskBytes(): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    for (const name of this.stores.keys()) {
      const directory = join(this.#directory, name);
      // A file LevelDB compacts away between the listing and its stat counts nothing.
      const files = await readdir(directory).catch(() => []);
      const bytes = await Promise.all(files.map((file) => stat(join(directory, file)).then((s) => s.size, () => 0)));
      sizes.set(name, bytes.reduce((sum, n) => sum + n, 0));
    }
    return sizes;
  }

  stageChangelog(outputs: OutputBuffer): void {
    for (const open of this.stores.values()) {
      const changes = open.store.changes();
      // A table read from a topic has that topic for changelog: its writes are staged for disk only.
      if (open.spec.sourceTopic) continue;
      const staged = stageChanges(outputs, open.spec.changelog, this.partition, changes);
      if (staged > 0) open.staged = staged;
    }
  }

  acknowledge(acks: readonly ProducedOffset[], positions: readonly TopicPartitionOffset[]): void {
    for (const open of this.stores.values()) {
      if (open.spec.sourceTopic) {
        const position = positions.find((p) => p.topic === open.spec.changelog);
        if (position !== undefined) open.next = BigInt(position.offset);
        continue;
      }
      if (open.staged === 0) continue;
      const ack = acks.find((a) => a.topic === open.spec.changelog && a.partition === this.partition);
      if (ack === undefined) throw new Error(`no acknowledgement for ${open.spec.changelog}[${this.partition}]`);
      open.next = BigInt(ack.baseOffset) + BigInt(open.staged);
      open.staged = 0;
    }
  }

  /**
   * Once the acknowledged writes are committed: writes them to disk, then the checkpoint, so a
   * checkpoint never claims what the files lack. A write that fails rejects with STATE_DIR.
   */
  async flush(): Promise<void> {
    if (this.#closed) return;
    for (const open of this.stores.values()) {
      const checkpoint = open.next;
      if (checkpoint === undefined) continue;
      await writingState(this.#directory, async () => {
        await open.store.flush();
        open.checkpoint = checkpoint;
        open.next = undefined;
        await writeCheckpoint(open.checkpointPath, checkpoint.toString());
      });
    }
  }

  discardPending(): void {
    for (const open of this.stores.values()) {
      open.store.discardPending();
      open.staged = 0;
      open.next = undefined;
    }
  }

  /**
   * Between batches nothing is pending under at-least-once. Under exactly-once writes staged for
   * a transaction still open are dropped: the checkpoint stays behind them, and once the
   * transaction commits a reopened store restores them from the changelog.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.stores.values()].map((open) => open.store.close()));
  }
}

async function openAndRestore(spec: StoreSpec, options: TaskStoresOptions): Promise<OpenStore> {
  const directory = join(options.directory, spec.store);
  const checkpointPath = `${directory}.checkpoint`;
  // A checkpoint without the files it speaks of is worthless: restore everything.
  const existed = await access(directory).then(
    () => true,
    () => false,
  );
  const checkpoint = existed ? await readCheckpoint(checkpointPath) : undefined;
  const offsets = (await options.changelogOffsets(spec.changelog)).get(options.partition) ?? { low: '0', high: '0' };
  const usable = checkpoint !== undefined && BigInt(checkpoint) >= BigInt(offsets.low) && BigInt(checkpoint) <= BigInt(offsets.high);
  // Files the changelog cannot vouch for may hold keys it no longer has: rebuild from it alone.
  const local = <T>(write: () => Promise<T>) => writingState(options.directory, write);
  if (existed && !usable) await local(() => rm(directory, { recursive: true, force: true }));
  await local(() => mkdir(directory, { recursive: true }));
  const store = await local(() => LevelKeyValueStore.open(spec.store, directory, spec.serdes));
  try {
    const from = usable ? checkpoint : offsets.low;
    const started = Date.now();
    let restored = 0;
    const end = BigInt(offsets.high);
    options.onRestore(spec.store, 0, end - BigInt(from));
    await options.reader.read(spec.changelog, options.partition, from, offsets.high, async (records) => {
      await local(() => store.apply(records));
      restored += records.length;
      const last = records.at(-1);
      if (last !== undefined) options.onRestore(spec.store, records.length, end - BigInt(last.offset) - 1n);
      crashPoint('during-restore');
    });
    options.onRestore(spec.store, 0, 0n);
    const ms = Date.now() - started;
    options.logger.info(`restored store ${spec.store} of task ${options.taskId}`, {
      records: restored,
      fromOffset: from,
      toOffset: offsets.high,
      ms,
      recordsPerSecond: ms > 0 ? Math.round((restored * 1000) / ms) : restored,
    });
    await local(() => writeCheckpoint(checkpointPath, offsets.high));
    const windows =
      spec.window === undefined
        ? undefined
        : await WindowState.load(store as unknown as LevelKeyValueStore<WindowKey, Timestamped>, spec.window);
    const keys = spec.indexed ? await keysOf(store) : undefined;
    return { spec, store, checkpointPath, checkpoint: BigInt(offsets.high), staged: 0, next: undefined, windows, keys };
  } catch (error) {
    await store.close();
    throw error;
  }
}
