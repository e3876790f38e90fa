import type { Topology } from '../dsl/topology.ts';
import { StreamrunError } from '../errors/streamrun-error.ts';
import type { GraphNode } from '../graph/nodes.ts';
import type { RunnerStats } from '../runtime/stats.ts';
import { serdes as builtin } from '../serde/builtin.ts';
import type { Serde } from '../serde/serde.ts';
import type { TopologyTestDriverOptions } from './driver-options.ts';
import { TaskHarness } from './task-harness.ts';
import { TestKeyValueStoreImpl, TestWindowStoreImpl, type TestKeyValueStore, type TestWindowStore } from './test-stores.ts';
import { TestInputTopicImpl, TestOutputTopicImpl, type TestInputTopic, type TestOutputTopic } from './test-topics.ts';

/** Serdes for a test topic; what is left out comes from the topology. */
export interface TestSerdes<K, V> {
  readonly key?: Serde<K>;
  readonly value?: Serde<V>;
}

/**
 * Runs a topology without a broker, as Kafka Streams' TopologyTestDriver does: the runtime's own
 * compiled graph, Task, batch processing, error policy and commit step, with state stores in
 * memory and one partition per topic. Each piped record is processed to the end (through every
 * repartition topic and sub-topology it reaches) and committed before the pipe resolves, so
 * results come in the order a broker gives them for one partition.
 *
 * Event time is what the records say: stream time moves as later records are piped, windows
 * close and `emit: 'final'` results come out. The wall clock stands still until
 * `advanceWallClockTime` moves it; it stamps records piped without a timestamp and dead letters,
 * and decides when a quiet repartition writer stops holding windows back (`watermarkIdleMs`).
 *
 * Failures go through the error policy as in a runner (`errors`, default 3 retries, then
 * `<appId>-dlq`), except that retries follow each other at once, without the backoff's waits, and
 * circuit breakers never open (a call that keeps failing is settled by the policy). Dead letters
 * and late records read like any output; under `onExhausted: 'fail'` the pipe rejects with the
 * error the runner would stop with.
 *
 * @example
 * const driver = new TopologyTestDriver(wordcount, { wallClockTime: 0 });
 * await driver.input('text-lines').pipeInput('line-1', 'to be or not to be');
 * expect(driver.output('word-counts').readKeyValuesToMap()).toEqual(new Map([['to', 2], ['be', 2], ['or', 1], ['not', 1]]));
 * await driver.close();
 */
export class TopologyTestDriver {
  /** The application id it runs under: internal topics and `<appId>-dlq` carry it. */
  readonly appId: string;
  /** Every topic a commit may write: outputs, repartition topics, changelogs, dead letters. */
  readonly #outputs: ReadonlySet<string>;
  readonly #harness: TaskHarness;

  constructor(topology: Topology, options: TopologyTestDriverOptions = {}) {
    const harness = (this.#harness = TaskHarness.of(topology, options));
    const graph = harness.graph;
    this.appId = graph.appId;
    const sinks = graph.nodes.flatMap((n) => (n.kind === 'sink' ? [n.topic] : []));
    const changelogs = [...harness.specs.values()].flatMap((s) => (s.sourceTopic ? [] : [s.changelog]));
    this.#outputs = new Set([...sinks, ...changelogs, ...harness.policies.deadLetterTopics()]);
  }

  /**
   * A topic the topology reads, to pipe records into; its serdes are the source's unless given.
   *
   * @example
   * const readings = driver.input<string, Reading>('sensor-readings');
   * await readings.pipeInputs([{ key: 'gw', value: { sensorId: 's1', value: 20, ts: 1_000 } }]);
   */
  input<K = unknown, V = unknown>(topic: string, serdes: TestSerdes<K, V> = {}): TestInputTopic<K, V> {
    const source = this.#harness.graph.nodes.find((n) => n.kind === 'source' && n.internal !== true && n.topic === topic);
    if (source?.kind !== 'source') {
      const topics = this.#harness.graph.nodes.flatMap((n) => (n.kind === 'source' && n.internal !== true ? [n.topic] : []));
      throw new StreamrunError('INVALID_OPTIONS', `the topology reads no topic ${topic}; it reads ${topics.join(', ')}`);
    }
    return new TestInputTopicImpl(topic, withDefaults(serdes, source.serdes), this.#harness);
  }

  /**
   * A topic the topology writes (an output, a repartition topic, a changelog or a dead-letter
   * topic), to read what it wrote; its serdes are the sink's unless given, and for a topic no
   * sink writes (dead letters, changelogs) Buffers as they are.
   *
   * @example
   * const letters = driver.output(`${driver.appId}-dlq`, { key: serdes.string, value: serdes.string });
   */
  output<K = unknown, V = unknown>(topic: string, serdes: TestSerdes<K, V> = {}): TestOutputTopic<K, V> {
    if (!this.#outputs.has(topic)) {
      throw new StreamrunError('INVALID_OPTIONS', `the topology writes no topic ${topic}; it writes ${[...this.#outputs].join(', ')}`);
    }
    const sink = this.#harness.graph.nodes.find((n) => n.kind === 'sink' && n.topic === topic);
    const written = sink?.kind === 'sink' ? sink.serdes : { key: builtin.buffer, value: builtin.buffer };
    return new TestOutputTopicImpl(topic, withDefaults(serdes, written), this.#harness);
  }

  /**
   * A key-value store by name (`count`, `reduce`, `aggregate`, a table, a table join). The types
   * are the caller's word for the store's keys and values.
   */
  store<K = unknown, V = unknown>(name: string): TestKeyValueStore<K, V> {
    if (this.#harness.spec(name).windowed === true) throw new StreamrunError('INVALID_OPTIONS', `${name} is a window store: read it with windowStore('${name}')`);
    return new TestKeyValueStoreImpl(name, () => this.#harness.store(name));
  }

  /** A window store by name (a windowed, session or sliding aggregation). */
  windowStore<K = unknown, V = unknown>(name: string): TestWindowStore<K, V> {
    if (this.#harness.spec(name).windowed !== true) throw new StreamrunError('INVALID_OPTIONS', `${name} is not a window store: read it with store('${name}')`);
    const node = this.#harness.graph.nodes.find((n) => 'store' in n && n.store === name) as Extract<GraphNode, { kind: 'windowedAggregate' | 'sessionAggregate' | 'slidingAggregate' }>;
    return new TestWindowStoreImpl(name, node.serdes.key, () => this.#harness.store(name));
  }

  /** Moves the wall clock on by `ms`. Event time does not move with it: only records move it. */
  advanceWallClockTime(ms: number): void {
    this.#harness.advance(ms);
  }

  /** The counters `runner.stats()` gives; `consumed` counts what repartition topics carry too, the runtime's watermark records among it. */
  stats(): RunnerStats {
    return this.#harness.stats();
  }

  /** Waits for the records piped so far, then closes the stores; later pipes reject. */
  async close(): Promise<void> {
    await this.#harness.close();
  }
}

function withDefaults<K, V>(given: TestSerdes<K, V>, topology: { readonly key: Serde<unknown>; readonly value: Serde<unknown> }): { key: Serde<K>; value: Serde<V> } {
  // The caller's types for the topology's serdes: what the source reads or the sink writes.
  return { key: given.key ?? (topology.key as Serde<K>), value: given.value ?? (topology.value as Serde<V>) };
}
