import { StreamrunError } from '../errors/streamrun-error.ts';
import type { GraphNode } from '../graph/nodes.ts';
import type { TaskStores } from '../state/task-stores.ts';
import type { InputBatch, ProducedOffset, TopicPartitionOffset } from './client.ts';
import { compile, type SourceProcessor } from './compile.ts';
import { OutputBuffer } from './output-buffer.ts';
import { MutableRecordContext } from './record-context.ts';

export interface TaskOptions {
  /** `<subtopology>_<partition>`, as Kafka Streams names tasks. */
  readonly id: string;
  readonly partition: number;
  readonly nodes: readonly GraphNode[];
  readonly children: (node: GraphNode) => readonly GraphNode[];
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
  /** The record `process` stopped at because it threw, until the runner settles it. */
  #failure: { readonly index: number; readonly error: StreamrunError } | undefined;
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
   * Runs records `from` onwards synchronously until the batch ends, `maxOutputs` outputs are
   * waiting or a record throws, and returns the index after the last record it finished. A
   * record that threw is left to `takeFailure()`: the runner retries or dead-letters it.
   */
  process(batch: InputBatch, from: number, maxOutputs: number): number {
    const processor = this.#processor(batch.topic);
    const records = batch.records;
    const context = this.#context;
    let index = from;
    while (index < records.length && this.outputs.size < maxOutputs) {
      const record = records[index]!;
      context.load(batch.topic, batch.partition, record);
      try {
        processor(record);
      } catch (error) {
        this.#failure = { index, error: asStreamrunError(error, context) };
        break;
      }
      index++;
    }
    if (index > from) this.markDone(batch, index - 1);
    return index;
  }

  /** The record the last `process` stopped at, if one threw; taking it clears it. */
  takeFailure(): { readonly index: number; readonly error: StreamrunError } | undefined {
    const failure = this.#failure;
    this.#failure = undefined;
    return failure;
  }

  /** Runs one record again; throws what it throws. */
  retry(batch: InputBatch, index: number): void {
    const record = batch.records[index]!;
    this.#context.load(batch.topic, batch.partition, record);
    try {
      this.#processor(batch.topic)(record);
    } catch (error) {
      throw asStreamrunError(error, this.#context);
    }
  }

  /** Counts the record at `index` as done: its offset is committed with the next outputs. */
  markDone(batch: InputBatch, index: number): void {
    const records = batch.records;
    const done = index === records.length - 1 ? batch.lastOffset : records[index]!.offset;
    this.#positions.set(batch.topic, (BigInt(done) + 1n).toString());
  }

  #processor(topic: string): SourceProcessor {
    const processor = this.#processors.get(topic);
    if (processor === undefined) throw new StreamrunError('INVALID_TOPOLOGY', `task ${this.id} has no source for topic ${topic}`);
    return processor;
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

function asStreamrunError(error: unknown, context: MutableRecordContext): StreamrunError {
  if (error instanceof StreamrunError) return error;
  return new StreamrunError('PROCESSING', String(error), {
    cause: error,
    context: { topic: context.topic, partition: context.partition, offset: context.offset },
  });
}
