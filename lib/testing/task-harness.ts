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
import { resolveDriverOptions, type ResolvedDriverOptions, type TopologyTestDriverOptions } from './driver-options.ts';
import { openSerdes } from '../runtime/serde-readiness.ts';

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

/** What a harness opened: a task per sub-topology, by the topics it reads, and their stores by name. */
interface Opened {
  readonly tasks: ReadonlyMap<string, Task>;
  readonly stores: ReadonlyMap<string, HarnessStore>;
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
  /** The graph as it runs, under the harness's application id. */
  readonly graph: TopologyGraph;
  /** The policies failures are settled by. */
  readonly policies: NodePolicies;
  /** The stores of every sub-topology, by name. */
  readonly specs: ReadonlyMap<string, StoreSpec>;
  /** The tasks, once their stores are open: pipes and store reads wait for them. */
  readonly #opening: Promise<Opened>;
  #opened: Opened = { tasks: new Map(), stores: new Map() };
  #now: number;
  readonly #stats = new Counters();
  readonly #lane: WorkLane = {
    commit: async () => {},
    resolve: () => {},
    live: () => true,
    heartbeat: async () => {},
    signal: new AbortController().signal,
  };
  readonly #work: BatchWork;
  readonly #offsets = new Map<string, bigint>();
  /** What was written, by topic, and not taken yet. */
  readonly #written = new Map<string, HarnessOutput[]>();
  /** What the pipe under way still has to process: its record, then what commits hand on. */
  readonly #queue: { readonly topic: string; readonly record: InputRecord }[] = [];
  #piped = 0;
  /** Set when work failed for good under `onExhausted: 'fail'`: the pipe rejects with it. */
  #fatal: StreamrunError | undefined;
  /** Pipes run one after the other, as a partition's batches do. */
  #running: Promise<void> = Promise.resolve();
  #closed = false;

  /**
   * Opens a task per sub-topology of `graph` (as it runs: under its application id); until
   * their stores are open, pipes and store reads wait. `create` waits for that too.
   */
  constructor(graph: TopologyGraph, options: ResolvedDriverOptions) {
    this.graph = graph;
    this.#now = options.wallClockTime;
    this.specs = new Map(storeSpecs(graph.appId, graph.nodes).map((spec) => [spec.store, spec]));
    const policies = (this.policies = new NodePolicies(graph.nodes, graph.appId, options.errors));
    const stats = this.#stats;
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
        logger: options.logger,
        park: () => {},
        signal: this.#lane.signal,
        now: () => this.#now,
      },
      onFatal: (error) => (this.#fatal ??= error),
    };
    this.#opening = this.#open(options.watermarkIdleMs).then((opened) => (this.#opened = opened));
    // A failure to open comes out of the first pipe or store read.
    this.#opening.catch(() => {});
  }

  /** A harness whose tasks are open, for tests that reach into them (`taskOf`). */
  static async create(topology: Topology, options: TopologyTestDriverOptions = {}): Promise<TaskHarness> {
    const harness = TaskHarness.of(topology, options);
    await harness.#opening;
    return harness;
  }

  /** A harness over `topology` as a runner with `options` runs it; options and graph are checked here, at once. */
  static of(topology: Topology, options: TopologyTestDriverOptions): TaskHarness {
    const built = graphOf(topology);
    const resolved = resolveDriverOptions(options, built.appId);
    return new TaskHarness(underAppId(built, resolved.appId), resolved);
  }

  async #open(idleMs: number): Promise<Opened> {
    const graph = this.graph;
    await openSerdes(graph.nodes);
    const children = childrenOf(graph);
    const repartitions = new Set(graph.nodes.flatMap((n) => (n.kind === 'source' && n.internal === true ? [n.topic] : [])));
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
        onLate: (node) => addTo(this.#stats.late, node),
        // Circuits never open here: a call that keeps failing is settled by the error policy.
        breaker: () => ({ halfOpenAfterMs: 0, call: (fn) => fn(), onOpen: () => {}, closed: () => true, state: () => 0 }),
        stores: opened,
        // One task per sub-topology writes each repartition topic.
        time: { writers: (topic) => (repartitions.has(topic) ? 1 : 0), idleMs, now: () => this.#now },
        partitions: () => 1,
        lateDeadLetters: (node) => ({ topic: this.policies.of(node).deadLetterTopic, partitions: 1, appId: graph.appId }),
      });
      for (const topic of sub.sourceTopics) tasks.set(topic, task);
      for (const spec of specs) stores.set(spec.store, { spec, stores: opened! });
    }
    return { tasks, stores };
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
    if (this.#closed) throw new StreamrunError('INVALID_OPTIONS', 'closed: it takes no more records');
    await this.#opening;
    this.taskOf(topic);
    this.#piped++;
    this.#queue.push({ topic, record: this.#inputRecord(topic, input) });
    try {
      while (this.#queue.length > 0) {
        const { topic: from, record } = this.#queue.shift()!;
        const batch = { topic: from, partition: 0, records: [record], lastOffset: record.offset };
        await processBatch(this.taskOf(from), batch, this.#lane, this.#work);
        if (this.#fatal !== undefined) throw this.#fatal;
      }
    } finally {
      // A pipe that failed leaves nothing behind for the next one.
      this.#fatal = undefined;
      this.#queue.length = 0;
    }
  }

  /** What was written to `topic` since the last call, in order; taking it clears it. */
  take(topic: string): HarnessOutput[] {
    return this.unread(topic).splice(0);
  }

  /** What was written to `topic` and not taken yet, in order: taking from the front of it takes those records. */
  unread(topic: string): HarnessOutput[] {
    let written = this.#written.get(topic);
    if (written === undefined) this.#written.set(topic, (written = []));
    return written;
  }

  /** The task reading `topic`, for its stores (once open). */
  taskOf(topic: string): Task {
    const tasks = this.#opened.tasks;
    const task = tasks.get(topic);
    if (task === undefined) throw new StreamrunError('INVALID_OPTIONS', `no sub-topology reads ${topic}; the topology reads ${[...tasks.keys()].join(', ')}`);
    return task;
  }

  /** The spec of the store named `name`. */
  spec(name: string): StoreSpec {
    const spec = this.specs.get(name);
    if (spec === undefined) {
      const names = [...this.specs.keys()];
      throw new StreamrunError('INVALID_OPTIONS', `no store named ${name}; the topology keeps ${names.length === 0 ? 'none' : names.join(', ')}`);
    }
    return spec;
  }

  /** The store named `name`, in the task that keeps it, once open. */
  async store(name: string): Promise<HarnessStore> {
    this.spec(name);
    return (await this.#opening).stores.get(name)!;
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
    return this.#now;
  }

  /** Moves the wall clock on by `ms`. */
  advance(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new StreamrunError('INVALID_OPTIONS', `the wall clock moves on by whole ms ≥ 0, not ${ms}`);
    this.#now += ms;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
    // What failed to open has nothing to close; its pipes have rejected with the reason.
    const opened = await this.#opening.catch(() => undefined);
    if (opened === undefined) return;
    await Promise.all([...new Set(opened.tasks.values())].map((t) => t.close()));
  }

  /** A record a commit sent: on to the task that reads its topic, and kept as written unless a watermark. */
  #deliver(topic: string, out: OutputRecord): void {
    const timestamp = out.timestamp ?? String(this.#now);
    if (this.#opened.tasks.has(topic)) {
      this.#queue.push({ topic, record: { key: out.key, value: out.value, timestamp, offset: this.#nextOffset(topic), headers: out.headers } });
    }
    // Watermarks belong to the runtime, not to what a topology wrote.
    if (out.headers?.[WATERMARK_HEADER] !== undefined) return;
    this.unread(topic).push({ topic, key: out.key, value: out.value, timestamp: Number(timestamp), headers: out.headers ?? {}, after: this.#piped - 1 });
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
