import { graphOf, type Topology } from '../dsl/topology.ts';
import type { StreamrunError } from '../errors/streamrun-error.ts';
import { childrenOf } from '../graph/edges.ts';
import type { RecordHeaders } from '../graph/nodes.ts';
import { subtopologies } from '../graph/subtopologies.ts';
import type { InputRecord, OutputRecord } from '../kafka/client.ts';
import type { Failed, Settled } from '../runtime/failures.ts';
import { Task } from '../runtime/task.ts';
import { WATERMARK_HEADER } from '../runtime/watermarks.ts';
import { storeSpecs } from '../state/changelog.ts';
import { MemoryStores } from '../state/memory-stores.ts';

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
  readonly timestamp: number;
  readonly headers: RecordHeaders | undefined;
  /** The index of the piped record (0, 1, … over all topics) during which it was written. */
  readonly after: number;
}

/** The harness has no retries or dead letters: a record that fails ends the pipe with its error. */
const failFast = (failed: Failed): Promise<Settled> => Promise.reject(failed.error);

/**
 * Runs a topology's real compiled graph and Task, one partition per sub-topology, with stores
 * in memory, one record at a time and without a broker: every record is processed and
 * committed before the next, as if each had its own batch. Records written to a topic that a
 * sub-topology reads (a repartition topic) go on to that sub-topology's task at once.
 * Event time is what the records say; nothing here reads the wall clock.
 */
export class TaskHarness {
  readonly #tasks: Map<string, Task>;
  readonly #offsets = new Map<string, bigint>();
  readonly #written: HarnessOutput[] = [];
  #piped = 0;
  /** Records dropped because every window they belong to had closed, by node. */
  readonly late = new Map<string, number>();

  private constructor(tasks: Map<string, Task>) {
    this.#tasks = tasks;
  }

  static async create(topology: Topology): Promise<TaskHarness> {
    const graph = graphOf(topology);
    const children = childrenOf(graph);
    const tasks = new Map<string, Task>();
    let harness: TaskHarness | undefined;
    const repartitions = new Set(graph.nodes.flatMap((n) => (n.kind === 'source' && n.internal === true ? [n.topic] : [])));
    for (const sub of subtopologies(graph)) {
      const specs = storeSpecs(graph.appId, sub.nodes);
      const task = new Task({
        id: `${sub.id}_0`,
        partition: 0,
        nodes: sub.nodes,
        children,
        onLate: (node) => harness!.late.set(node, (harness!.late.get(node) ?? 0) + 1),
        breaker: () => ({ halfOpenAfterMs: 0, call: (fn) => fn(), onOpen: () => {}, closed: () => true, state: () => 0 }),
        stores: specs.length === 0 ? undefined : await MemoryStores.open(specs, 0),
        // One task per sub-topology writes each repartition topic; nobody goes idle in a test.
        time: { writers: (topic) => (repartitions.has(topic) ? 1 : 0), idleMs: Number.POSITIVE_INFINITY, now: () => 0 },
        partitions: () => 1,
        lateDeadLetters: () => ({ topic: `${graph.appId}-dlq`, partitions: 1, appId: graph.appId }),
      });
      for (const topic of sub.sourceTopics) tasks.set(topic, task);
    }
    harness = new TaskHarness(tasks);
    return harness;
  }

  /** Processes one record read from `topic`, and everything it causes downstream. */
  async pipe(topic: string, input: HarnessInput): Promise<void> {
    const after = this.#piped++;
    const queue: { topic: string; record: InputRecord }[] = [{ topic, record: this.#inputRecord(topic, input) }];
    while (queue.length > 0) {
      const { topic: from, record } = queue.shift()!;
      const task = this.#tasks.get(from);
      if (task === undefined) throw new Error(`no sub-topology reads ${from}`);
      for (const [to, out] of await this.#run(task, from, record)) {
        if (this.#tasks.has(to)) queue.push({ topic: to, record: this.#asInput(to, out) });
        // Watermarks belong to the runtime, not to what a topology wrote.
        if (out.headers?.[WATERMARK_HEADER] !== undefined) continue;
        this.#written.push({ topic: to, key: out.key, value: out.value, timestamp: Number(out.timestamp), headers: out.headers, after });
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
    if (task === undefined) throw new Error(`no sub-topology reads ${topic}`);
    return task;
  }

  async close(): Promise<void> {
    await Promise.all([...new Set(this.#tasks.values())].map((t) => t.close()));
  }

  async #run(task: Task, topic: string, record: InputRecord): Promise<[string, OutputRecord][]> {
    const batch = { topic, partition: 0, records: [record], lastOffset: record.offset };
    task.process(batch, 0, Number.POSITIVE_INFINITY);
    const failure: { error: StreamrunError } | undefined = task.takeFailure();
    if (failure !== undefined) {
      task.discardPending();
      throw failure.error;
    }
    await task.drain(failFast);
    await task.flushSinks(failFast);
    task.stageChangelog();
    const written: [string, OutputRecord][] = [];
    for (const [to, lane] of task.outputs.lanes) for (const out of lane) written.push([to, out]);
    task.acknowledge([], task.takePositions());
    await task.flushStores();
    task.outputs.clear();
    return written;
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

  #asInput(topic: string, out: OutputRecord): InputRecord {
    return {
      key: out.key,
      value: out.value,
      timestamp: out.timestamp ?? '0',
      offset: this.#nextOffset(topic),
      headers: out.headers,
    };
  }

  #nextOffset(topic: string): string {
    const offset = this.#offsets.get(topic) ?? 0n;
    this.#offsets.set(topic, offset + 1n);
    return offset.toString();
  }
}
