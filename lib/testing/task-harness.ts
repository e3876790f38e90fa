import { graphOf, type Topology } from '../dsl/topology.ts';
import { StreamrunError } from '../errors/streamrun-error.ts';
import { underAppId } from '../graph/app-id.ts';
import { childrenOf } from '../graph/edges.ts';
import type { RecordHeaders, TopologyGraph } from '../graph/nodes.ts';
import { subtopologies } from '../graph/subtopologies.ts';
import type { InputRecord, OutputProducer, OutputRecord } from '../kafka/client.ts';
import { processBatch, type BatchWork, type WorkLane } from '../runtime/batch-work.ts';
import { atLeastOnce } from '../runtime/commit.ts';
import { NodePolicies } from '../runtime/node-policies.ts';
import { addTo, Counters, type RunnerStats } from '../runtime/stats.ts';
import { Task } from '../runtime/task.ts';
import { WATERMARK_HEADER } from '../runtime/watermarks.ts';
import { storeSpecs } from '../state/changelog.ts';
import { MemoryStores } from '../state/memory-stores.ts';
import type { StateStores } from '../state/state-stores.ts';
import type { StoreSpec } from '../state/task-stores.ts';
import type { Logger } from '../runtime/logger.ts';
import { resolveDriverOptions, type TopologyTestDriverOptions } from './driver-options.ts';

/** A record to pipe in; strings are taken as UTF-8. */
export interface HarnessInput {
  readonly key: string | Buffer | null;
  readonly value: string | Buffer | null;
  /** Event time, ms since the epoch. */
  readonly timestamp: number;
  readonly headers?: RecordHeaders;
}

/** A record a topology wrote, with the input it came out of. */
export interface HarnessOutput {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** The record's own, or for a record written without one (a changelog's) the wall clock's, as a producer stamps it. */
  readonly timestamp: number;
  readonly headers: RecordHeaders;
  /** The index of the piped record (0, 1, … over all topics) during which it was written. */
  readonly after: number;
}

/** A store of one of the harness's tasks, with its spec. */
export interface HarnessStore {
  readonly spec: StoreSpec;
  readonly stores: StateStores;
}

/** The wall clock the tasks read, moved only by the harness. */
interface Clock {
  now: number;
}

/** What `create` opened for the harness. */
interface Parts {
  readonly graph: TopologyGraph;
  readonly policies: NodePolicies;
  readonly tasks: ReadonlyMap<string, Task>;
  readonly stores: ReadonlyMap<string, HarnessStore>;
  readonly clock: Clock;
  readonly stats: Counters;
  readonly logger: Logger;
}

/**
 * Runs a topology's real compiled graph and Task, one partition per sub-topology, with stores in
 * memory and without a broker: each record is a batch of its own, run by the runtime's
 * processBatch and committed by its at-least-once commit step before the next, so failures go
 * through the error policy as in a runner (retries, dead letters, `onExhausted`). What a commit
 * sends to a topic that a sub-topology reads (a repartition topic) goes on to that
 * sub-topology's task, in order, before the pipe ends. Event time is what the records say; the
 * wall clock (idle writers, dead letters' time) stands still unless `advance` moves it.
 */
export class TaskHarness {
  readonly appId: string;
  /** The graph as it runs, under the harness's application id. */
  readonly graph: TopologyGraph;
  /** The policies failures are settled by. */
  readonly policies: NodePolicies;
  readonly #tasks: ReadonlyMap<string, Task>;
  readonly #stores: ReadonlyMap<string, HarnessStore>;
  readonly #clock: Clock;
  readonly #stats: Counters;
  readonly #lane: WorkLane = {
    commit: async () => {},
    resolve: () => {},
    live: () => true,
    heartbeat: async () => {},
    signal: new AbortController().signal,
  };
  readonly #work: BatchWork;
  readonly #offsets = new Map<string, bigint>();
  readonly #written: HarnessOutput[] = [];
  /** What the pipe under way still has to process: its record, then what commits hand on. */
  readonly #queue: { readonly topic: string; readonly record: InputRecord }[] = [];
  #piped = 0;
  /** Set when work failed for good under `onExhausted: 'fail'`: the pipe rejects with it. */
  #fatal: StreamrunError | undefined;
  /** Pipes run one after the other, as a partition's batches do. */
  #running: Promise<void> = Promise.resolve();

  private constructor({ graph, policies, tasks, stores, clock, stats, logger }: Parts) {
    this.appId = graph.appId;
    this.graph = graph;
    this.policies = policies;
    this.#tasks = tasks;
    this.#stores = stores;
    this.#clock = clock;
    this.#stats = stats;
    const producer: OutputProducer = {
      send: async (lanes) => {
        for (const [topic, records] of lanes) for (const record of records) this.#deliver(topic, record);
        return [];
      },
      close: async () => {},
    };
    this.#work = {
      commitStep: atLeastOnce(producer, stats),
      // One record a batch: a pass always takes it.
      maxBufferedOutputs: Number.POSITIVE_INFINITY,
      stats,
      handling: {
        // Tries follow each other at once: a test does not wait out the backoff.
        policyFor: (node) => ({ ...policies.of(node), initialMs: 0, maxMs: 0 }),
        appId: graph.appId,
        deadLetterPartitions: () => 1,
        stats,
        logger,
        park: () => {},
        signal: this.#lane.signal,
        now: () => clock.now,
      },
      onFatal: (error) => (this.#fatal ??= error),
    };
  }

  static async create(topology: Topology, options: TopologyTestDriverOptions = {}): Promise<TaskHarness> {
    const built = graphOf(topology);
    const resolved = resolveDriverOptions(options, built.appId);
    const graph = underAppId(built, resolved.appId);
    const children = childrenOf(graph);
    const clock: Clock = { now: resolved.wallClockTime };
    const stats = new Counters();
    const repartitions = new Set(graph.nodes.flatMap((n) => (n.kind === 'source' && n.internal === true ? [n.topic] : [])));
    const policies = new NodePolicies(graph.nodes, graph.appId, resolved.errors);
    const tasks = new Map<string, Task>();
    const stores = new Map<string, HarnessStore>();
    for (const sub of subtopologies(graph)) {
      const specs = storeSpecs(graph.appId, sub.nodes);
      const opened = specs.length === 0 ? undefined : await MemoryStores.open(specs, 0);
      const task = new Task({
        id: `${sub.id}_0`,
        partition: 0,
        nodes: sub.nodes,
        children,
        onLate: (node) => addTo(stats.late, node),
        // Circuits never open here: a call that keeps failing is settled by the error policy.
        breaker: () => ({ halfOpenAfterMs: 0, call: (fn) => fn(), onOpen: () => {}, closed: () => true, state: () => 0 }),
        stores: opened,
        // One task per sub-topology writes each repartition topic.
        time: { writers: (topic) => (repartitions.has(topic) ? 1 : 0), idleMs: resolved.watermarkIdleMs, now: () => clock.now },
        partitions: () => 1,
        lateDeadLetters: (node) => ({ topic: policies.of(node).deadLetterTopic, partitions: 1, appId: graph.appId }),
      });
      for (const topic of sub.sourceTopics) tasks.set(topic, task);
      for (const spec of specs) stores.set(spec.store, { spec, stores: opened! });
    }
    return new TaskHarness({ graph, policies, tasks, stores, clock, stats, logger: resolved.logger });
  }

  /**
   * Processes one record read from `topic`, and everything it causes downstream. Rejects with
   * the error of work that failed for good under `onExhausted: 'fail'` (what the runner stops
   * with); what that work caused and was not processed yet is dropped.
   */
  pipe(topic: string, input: HarnessInput): Promise<void> {
    const run = this.#running.then(() => this.#pipe(topic, input));
    this.#running = run.catch(() => {});
    return run;
  }

  async #pipe(topic: string, input: HarnessInput): Promise<void> {
    this.taskOf(topic);
    this.#piped++;
    this.#queue.push({ topic, record: this.#inputRecord(topic, input) });
    while (this.#queue.length > 0) {
      const { topic: from, record } = this.#queue.shift()!;
      const batch = { topic: from, partition: 0, records: [record], lastOffset: record.offset };
      await processBatch(this.taskOf(from), batch, this.#lane, this.#work);
      const fatal = this.#fatal;
      if (fatal !== undefined) {
        this.#fatal = undefined;
        this.#queue.length = 0;
        throw fatal;
      }
    }
  }

  /** What was written to `topic` since the last call, in order; taking it clears it. */
  take(topic: string): HarnessOutput[] {
    const taken = this.#written.filter((r) => r.topic === topic);
    this.#written.splice(0, this.#written.length, ...this.#written.filter((r) => r.topic !== topic));
    return taken;
  }

  /** The task reading `topic`, for its stores. */
  taskOf(topic: string): Task {
    const task = this.#tasks.get(topic);
    if (task === undefined) throw new StreamrunError('INVALID_OPTIONS', `no sub-topology reads ${topic}; the topology reads ${[...this.#tasks.keys()].join(', ')}`);
    return task;
  }

  /** The store named `name`, in the task that keeps it. */
  store(name: string): HarnessStore {
    const store = this.#stores.get(name);
    if (store === undefined) {
      const names = [...this.#stores.keys()];
      throw new StreamrunError('INVALID_OPTIONS', `no store named ${name}; the topology keeps ${names.length === 0 ? 'none' : names.join(', ')}`);
    }
    return store;
  }

  /** Records dropped or dead-lettered because every window they belong to had closed, by node. */
  get late(): ReadonlyMap<string, number> {
    return this.#stats.late;
  }

  stats(): RunnerStats {
    return this.#stats.snapshot();
  }

  /** The wall clock, ms since the epoch. */
  get now(): number {
    return this.#clock.now;
  }

  /** Moves the wall clock on by `ms`. */
  advance(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new StreamrunError('INVALID_OPTIONS', `expected a whole number of ms ≥ 0, got ${ms}`);
    this.#clock.now += ms;
  }

  async close(): Promise<void> {
    await this.#running;
    await Promise.all([...new Set(this.#tasks.values())].map((t) => t.close()));
  }

  /** A record a commit sent: on to the task that reads its topic, and kept as written unless a watermark. */
  #deliver(topic: string, out: OutputRecord): void {
    const timestamp = out.timestamp ?? String(this.#clock.now);
    if (this.#tasks.has(topic)) {
      this.#queue.push({ topic, record: { key: out.key, value: out.value, timestamp, offset: this.#nextOffset(topic), headers: out.headers } });
    }
    // Watermarks belong to the runtime, not to what a topology wrote.
    if (out.headers?.[WATERMARK_HEADER] !== undefined) return;
    this.#written.push({ topic, key: out.key, value: out.value, timestamp: Number(timestamp), headers: out.headers ?? {}, after: this.#piped - 1 });
  }

  #inputRecord(topic: string, input: HarnessInput): InputRecord {
    const bytes = (x: string | Buffer | null) => (typeof x === 'string' ? Buffer.from(x) : x);
    return {
      key: bytes(input.key),
      value: bytes(input.value),
      timestamp: String(input.timestamp),
      offset: this.#nextOffset(topic),
      headers: input.headers,
    };
  }

  #nextOffset(topic: string): string {
    const offset = this.#offsets.get(topic) ?? 0n;
    this.#offsets.set(topic, offset + 1n);
    return offset.toString();
  }
}
