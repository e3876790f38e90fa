import { StreamrunError } from '../errors/streamrun-error.ts';
import type { GraphNode } from '../graph/nodes.ts';
import type { TaskStores } from '../state/task-stores.ts';
import type { InputBatch, ProducedOffset, TopicPartitionOffset } from './client.ts';
import { compile, type SourceProcessor } from './compile.ts';
import { OutputBuffer } from './output-buffer.ts';
import { MutableRecordContext } from './record-context.ts';

/** What a task reports about records it could not process; the runner decides what follows. */
export type RecordFailureHandler = (error: StreamrunError) => void;

export interface TaskOptions {
  /** `<subtopology>_<partition>`, as Kafka Streams names tasks. */
  readonly id: string;
  readonly partition: number;
  readonly nodes: readonly GraphNode[];
  readonly children: (node: GraphNode) => readonly GraphNode[];
  readonly onFailure: RecordFailureHandler;
  /** A record came after every window it belongs to had closed. */
  readonly onLate: (node: string, timestamp: number, context: { topic: string; partition: number; offset: string }) => void;
  /** The task's state stores, opened and restored; absent when the sub-topology keeps none. */
  readonly stores?: TaskStores | undefined;
}

/**
 * Owns one input partition (of every co-partitioned source topic): its compiled graph, the
 * outputs waiting for the next commit and the offsets those outputs stand for.
 */
export class Task {
  readonly id: string;
  readonly partition: number;
  readonly outputs = new OutputBuffer();
  readonly #context = new MutableRecordContext();
  readonly #processors: Map<string, SourceProcessor>;
  readonly #onFailure: RecordFailureHandler;
  readonly #stores: TaskStores | undefined;
  /** The task's state stores, for queries. */
  get stores(): TaskStores | undefined {
    return this.#stores;
  }
  /** Per topic: the next offset to commit once the outputs are acknowledged. */
  readonly #positions = new Map<string, string>();

  constructor(options: TaskOptions) {
    this.id = options.id;
    this.partition = options.partition;
    this.#onFailure = options.onFailure;
    this.#stores = options.stores;
    const stores = (): TaskStores => {
      if (options.stores === undefined) throw new Error(`task ${options.id} has no stores, yet a node keeps one`);
      return options.stores;
    };
    const context = this.#context;
    this.#processors = compile(options.nodes, options.children, context, this.outputs, {
      store: (name) => stores().get(name),
      windows: (name) => stores().windows(name),
      late: (node, timestamp) => options.onLate(node, timestamp, context),
    });
  }

  /**
   * Runs records `from` onwards synchronously until the batch ends or `maxOutputs` outputs are
   * waiting, and returns the index after the last record it took. A record that fails is
   * reported and counted as done, so one bad record never stalls the partition.
   */
  process(batch: InputBatch, from: number, maxOutputs: number): number {
    const processor = this.#processors.get(batch.topic);
    if (processor === undefined) {
      throw new StreamrunError('INVALID_TOPOLOGY', `task ${this.id} has no source for topic ${batch.topic}`);
    }
    const records = batch.records;
    const context = this.#context;
    let index = from;
    while (index < records.length && this.outputs.size < maxOutputs) {
      const record = records[index++]!;
      context.load(batch.topic, batch.partition, record);
      try {
        processor(record);
      } catch (error) {
        this.#onFailure(
          error instanceof StreamrunError
            ? error
            : new StreamrunError('PROCESSING', String(error), { cause: error, context: { topic: batch.topic, partition: batch.partition, offset: record.offset } }),
        );
      }
    }
    if (index > from) {
      const done = index === records.length ? batch.lastOffset : records[index - 1]!.offset;
      this.#positions.set(batch.topic, (BigInt(done) + 1n).toString());
    }
    return index;
  }

  /** Adds the stores' pending writes to the outputs, for the changelog. */
  stageChangelog(): void {
    this.#stores?.stageChangelog(this.outputs);
  }

  /** Once the outputs are acknowledged: the stores' writes go to disk, then their checkpoints. */
  async flushStores(acks: readonly ProducedOffset[], positions: readonly TopicPartitionOffset[]): Promise<void> {
    await this.#stores?.flush(acks, positions);
  }

  /** Forgets outputs, store writes and positions that could not be committed: their records come again. */
  discardPending(): void {
    this.outputs.clear();
    this.#stores?.discardPending();
    this.#positions.clear();
  }

  close(): Promise<void> {
    return this.#stores?.close() ?? Promise.resolve();
  }

  /** The positions to commit with the current outputs; taking them clears them. */
  takePositions(): TopicPartitionOffset[] {
    const positions = [...this.#positions].map(([topic, offset]) => ({ topic, partition: this.partition, offset }));
    this.#positions.clear();
    return positions;
  }
}
