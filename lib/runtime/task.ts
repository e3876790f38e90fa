import { StreamrunError } from '../errors/streamrun-error.ts';
import type { Breaker } from '../errors/breaker.ts';
import { deadLettersLate, type EnrichNode, type ExternalSinkNode, type GraphNode, type RecordContext } from '../graph/nodes.ts';
import { writeSinkBatch, type SinkBatch } from './sink-writes.ts';
import type { Failed, Settled } from './failures.ts';
import type { StateStores } from '../state/state-stores.ts';
import type { InputBatch, ProducedOffset, TopicPartitionOffset } from '../kafka/client.ts';
import { preparers, type Preparer } from './serde-readiness.ts';
import { compile, type EventTimeRules, type RepartitionClock, type SourceProcessor } from './compile.ts';
import { InputProgress } from './input-progress.ts';
import { watermarkRecords } from './watermarks.ts';
import { deadLetterHeaders, deadLetterRecord } from '../errors/dead-letter.ts';

/** A dead-letter topic, its partitions, and the app id its records name. */
export interface DeadLetterTarget {
  readonly topic: string;
  readonly partitions: number;
  readonly appId: string;
}
import { OutputBuffer } from './output-buffer.ts';
import { MutableRecordContext, type RecordContextSnapshot } from './record-context.ts';

/**
 * How long one synchronous pass over a batch may hold the event loop. The group's heartbeats
 * and every other partition wait for it: a topology that spends a millisecond a record would
 * otherwise block for maxBufferedOutputs of them (10 s) and be taken for dead.
 */
const maxPassMs = 250;

export interface TaskOptions {
  /** `<subtopology>_<partition>`, as Kafka Streams names tasks. */
  readonly id: string;
  readonly partition: number;
  readonly nodes: readonly GraphNode[];
  readonly children: (node: GraphNode) => readonly GraphNode[];
  /** A record came after every window it belongs to had closed. */
  readonly onLate: (node: string, timestamp: number, context: { topic: string; partition: number; offset: string }) => void;
  /** Where the late records of a node with `late: 'dead-letter'` go. */
  readonly lateDeadLetters: (node: string) => DeadLetterTarget;
  /** The circuit breaker guarding an enrich node's or external sink's dependency (shared by the runner's tasks). */
  readonly breaker: (node: EnrichNode | ExternalSinkNode) => Breaker;
  /** The task's state stores, opened and restored; absent when the sub-topology keeps none. */
  readonly stores?: StateStores | undefined;
  /** Who writes the repartition topics the task reads, and when a silent writer stops counting. */
  readonly time: EventTimeRules;
  /** The input topics whose partition had records the group had not read when the task opened. */
  readonly behind?: Iterable<string>;
  /** Partitions of each repartition topic the task writes: its watermarks go to all of them. */
  readonly partitions: (topic: string) => number;
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
  readonly #preparers: Map<string, Preparer>;
  readonly #repartitions: readonly RepartitionClock[];
  readonly #progress: InputProgress;
  readonly #caughtUp: (topic: string) => void;
  /** The time each repartition topic last heard from this task. */
  readonly #sentWatermarks = new Map<string, number>();
  readonly #partitionsOf: (topic: string) => number;
  /** The wall clock, as the event clocks read it: when a late record was dead-lettered. */
  readonly #now: () => number;
  /** Enrich calls started during `process`, taken in record order by `drain`. */
  readonly #deferred: Deferred[] = [];
  /** Records for external sinks since the last flush, by node. */
  readonly #sinks = new Map<string, SinkBatch>();
  #sinkItems = 0;
  /** `process` pauses once this many calls are in flight, so a slow dependency slows intake. */
  readonly #maxInFlight: number;
  /** The consumed record being processed: where a deferred call's dead letter comes from. */
  #current: Failed['source'] | undefined;
  /** The record `process` stopped at because it threw, until the runner settles it. */
  #failure: { readonly index: number; readonly error: StreamrunError } | undefined;
  readonly #stores: StateStores | undefined;
  /** The task's state stores, for queries. */
  get stores(): StateStores | undefined {
    return this.#stores;
  }
  /** Per topic: the next offset to commit once the outputs are acknowledged. */
  readonly #positions = new Map<string, string>();

  constructor(options: TaskOptions) {
    this.id = options.id;
    this.partition = options.partition;
    this.#stores = options.stores;
    const stores = (): StateStores => {
      if (options.stores === undefined) throw new Error(`task ${options.id} has no stores, yet a node keeps one`);
      return options.stores;
    };
    const context = this.#context;
    const concurrency = options.nodes.flatMap((n) => (n.kind === 'enrich' ? [n.concurrency] : []));
    this.#maxInFlight = Math.min(Number.POSITIVE_INFINITY, ...concurrency);
    this.#partitionsOf = options.partitions;
    this.#now = options.time.now;
    const deadLettering = new Set(options.nodes.filter(deadLettersLate).map((n) => n.name));
    const progress = (this.#progress = new InputProgress(options.behind ?? [], options.time));
    const compiled = compile(options.nodes, options.children, context, this.outputs, {
      partition: options.partition,
      time: { ...options.time, behind: (topic) => progress.behind(topic) },
      store: (name) => stores().get(name),
      windows: (name) => stores().windows(name),
      tableValues: (name) => stores().tableValues(name),
      takeKeys: (name) => stores().takeKeys(name),
      late: (node, timestamp, window, streamTime) => {
        options.onLate(node, timestamp, context);
        if (deadLettering.has(node)) this.#deadLetterLate(options.lateDeadLetters(node), node, window, streamTime);
      },
      defer: (node, call, then) => {
        const snapshot = context.snapshot();
        const breaker = options.breaker(node);
        const run = () => breaker.call(() => call(snapshot));
        const promise = run();
        // Awaited in order by `drain`; until then a rejection is not unhandled.
        promise.catch(() => {});
        this.#deferred.push({ node: node.name, snapshot, source: this.#current!, breaker, run, then, promise });
      },
      sink: (node, value, key) => {
        let batch = this.#sinks.get(node.name);
        if (batch === undefined) this.#sinks.set(node.name, (batch = { node, breaker: options.breaker(node), items: [] }));
        batch.items.push({ key, value, context: context.snapshot(), source: this.#current! });
        this.#sinkItems++;
      },
    });
    this.#processors = compiled.processors;
    this.#preparers = preparers(options.nodes);
    this.#repartitions = compiled.repartitions;
    this.#caughtUp = compiled.caughtUp;
  }

  /**
   * Runs records `from` onwards synchronously until `end` (default: the batch's end),
   * `maxOutputs` outputs are waiting, `maxPassMs` went by or a record throws, and returns the
   * index after the last record it finished. A record that threw is left to `takeFailure()`: the
   * runner retries or dead-letters it.
   */
  process(batch: InputBatch, from: number, maxOutputs: number, end = batch.records.length): number {
    const processor = this.#processor(batch.topic);
    const records = batch.records;
    const context = this.#context;
    const deadline = performance.now() + maxPassMs;
    let index = from;
    if (from === 0) this.#progress.begin(batch.topic);
    while (
      index < end &&
      this.outputs.size + this.#sinkItems < maxOutputs &&
      this.#deferred.length < this.#maxInFlight
    ) {
      const record = records[index]!;
      context.load(batch.topic, batch.partition, record);
      this.#current = { topic: batch.topic, partition: batch.partition, record };
      try {
        processor(record);
        // What the batch's input held back may close now, and goes out with the batch's last commit.
        if (index === records.length - 1 && this.#progress.end(batch)) this.#caughtUp(batch.topic);
      } catch (error) {
        this.#failure = { index, error: asStreamrunError(error, context) };
        break;
      }
      index++;
      // The clock is read every few records only: it costs more than a fast record.
      if ((index - from) % 16 === 0 && performance.now() > deadline) break;
    }
    if (index > from) this.markDone(batch, index - 1);
    return index;
  }

  /**
   * What must be fetched before records `from` to `end` can be read (a schema a registry serde
   * has not seen), or `undefined` when nothing must. It rejects with a StreamrunError.
   */
  prepare(batch: InputBatch, from: number, end: number): Promise<void> | undefined {
    const fetching = this.#preparers.get(batch.topic)?.(batch.records, from, end);
    return fetching?.catch((error: unknown) => {
      throw asStreamrunError(error, { topic: batch.topic, partition: batch.partition, offset: batch.records[from]!.offset });
    });
  }

  /** The record the last `process` stopped at, if one threw; taking it clears it. */
  takeFailure(): { readonly index: number; readonly error: StreamrunError } | undefined {
    const failure = this.#failure;
    this.#failure = undefined;
    return failure;
  }

  /**
   * Takes the results of the calls `process` started, in record order, and passes each on
   * (which may start more calls: they are taken too). A call or what follows it that throws goes
   * to `settle`; anything but 'done' from it stops the drain.
   */
  async drain(settle: (failed: Failed) => Promise<Settled>): Promise<Settled> {
    while (this.#deferred.length > 0) {
      const item = this.#deferred.shift()!;
      const pass = (result: unknown) => {
        this.#context.restore(item.snapshot);
        this.#current = item.source;
        item.then(result);
      };
      try {
        pass(await item.promise);
      } catch (error) {
        const failed: Failed = {
          error: asStreamrunError(error, item.snapshot, item.node),
          source: item.source,
          breaker: item.breaker,
          retry: async () => {
            let result: unknown;
            try {
              result = await item.run();
            } catch (error) {
              throw asStreamrunError(error, item.snapshot, item.node);
            }
            pass(result);
          },
        };
        const settled = await settle(failed);
        if (settled !== 'done') return settled;
      }
    }
    return 'done';
  }

  /** Writes what the external sinks received since the last flush, a batch per sink; failures go to `settle`. */
  async flushSinks(settle: (failed: Failed) => Promise<Settled>): Promise<Settled> {
    for (const batch of this.#sinks.values()) {
      if (batch.items.length === 0) continue;
      const items = batch.items.splice(0);
      this.#sinkItems -= items.length;
      const settled = await writeSinkBatch(batch, items, settle);
      if (settled !== 'done') return settled;
    }
    return 'done';
  }

  /** A late record as a dead letter, beside the outputs: it is acknowledged before its offset is committed. */
  #deadLetterLate(target: DeadLetterTarget, node: string, window: { start: number; end: number }, streamTime: number): void {
    const source = this.#current!;
    const error = new StreamrunError(
      'LATE_RECORD',
      `${node}: late record at ${this.#context.timestamp}: window [${window.start}, ${window.end}) closed at stream time ${streamTime}`,
      { context: { topic: source.topic, partition: source.partition, offset: source.record.offset, node } },
    );
    const record = deadLetterRecord(source, error, 0, target.appId, source.partition % target.partitions, this.#now());
    record.headers = {
      ...record.headers,
      [deadLetterHeaders.window]: `${window.start},${window.end}`,
      [deadLetterHeaders.streamTime]: String(streamTime),
    };
    this.outputs.lane(target.topic).push(record);
    this.outputs.size++;
  }

  /** Runs one record again; throws what it throws. */
  retry(batch: InputBatch, index: number): void {
    const record = batch.records[index]!;
    this.#context.load(batch.topic, batch.partition, record);
    this.#current = { topic: batch.topic, partition: batch.partition, record };
    try {
      this.#processor(batch.topic)(record);
    } catch (error) {
      throw asStreamrunError(error, this.#context);
    }
  }

  /** Counts the record at `index` as done: its offset is committed with the next outputs. */
  markDone(batch: InputBatch, index: number): void {
    const records = batch.records;
    const last = index === records.length - 1;
    this.#positions.set(batch.topic, (BigInt(last ? batch.lastOffset : records[index]!.offset) + 1n).toString());
    // After a record that failed, what this lets close waits for the next record to be passed on.
    if (last) this.#progress.end(batch);
  }

  #processor(topic: string): SourceProcessor {
    const processor = this.#processors.get(topic);
    if (processor === undefined) throw new StreamrunError('INVALID_TOPOLOGY', `task ${this.id} has no source for topic ${topic}`);
    return processor;
  }

  /**
   * Adds what goes out besides the outputs: the stores' pending writes, for the changelog, and
   * a watermark to every partition of each repartition topic whose time moved on.
   */
  stageChangelog(): void {
    this.#stores?.stageChangelog(this.outputs);
    for (const { topic, clock } of this.#repartitions) {
      const time = clock.refresh();
      if (time === Number.NEGATIVE_INFINITY || time <= (this.#sentWatermarks.get(topic) ?? Number.NEGATIVE_INFINITY)) continue;
      const records = watermarkRecords(this.partition, time, this.#partitionsOf(topic));
      this.outputs.lane(topic).push(...records);
      this.outputs.size += records.length;
      this.#sentWatermarks.set(topic, time);
    }
  }

  /** The outputs were acknowledged: the stores note where their checkpoints go once committed. */
  acknowledge(acks: readonly ProducedOffset[], positions: readonly TopicPartitionOffset[]): void {
    this.#stores?.acknowledge(acks, positions);
  }

  /** Once what was acknowledged is committed: the stores' writes go to disk, then their checkpoints. */
  async flushStores(): Promise<void> {
    await this.#stores?.flush();
  }

  /**
   * Set under exactly-once when work was discarded: what the graph keeps in memory (open
   * windows, join indexes, stream time) holds records that will come again, so the runner
   * closes the task and opens it afresh from its stores before it takes another record.
   */
  dirty = false;

  /** Forgets outputs, store writes and positions that could not be committed: their records come again. */
  discardPending(): void {
    this.outputs.clear();
    for (const batch of this.#sinks.values()) batch.items.length = 0;
    this.#sinkItems = 0;
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

function asStreamrunError(error: unknown, context: Pick<RecordContext, 'topic' | 'partition' | 'offset'>, node?: string): StreamrunError {
  if (error instanceof StreamrunError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StreamrunError('PROCESSING', node === undefined ? message : `${node}: ${message}`, {
    cause: error,
    context: { topic: context.topic, partition: context.partition, offset: context.offset, ...(node === undefined ? {} : { node }) },
  });
}

interface Deferred {
  readonly node: string;
  readonly snapshot: RecordContextSnapshot;
  readonly source: Failed['source'];
  readonly breaker: Breaker;
  /** Starts the call again (through the breaker). */
  readonly run: () => Promise<unknown>;
  readonly then: (result: unknown) => void;
  readonly promise: Promise<unknown>;
}
