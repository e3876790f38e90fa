import { collectDefaultMetrics, Counter, Gauge, Histogram as PromHistogram, Registry } from 'prom-client';
import type { Histogram } from '../runtime/histogram.ts';
import type { Counters } from '../runtime/stats.ts';

/** A value of one partition of a topic, e.g. its lag. */
export interface PartitionValue {
  readonly topic: string;
  readonly partition: number;
  readonly value: number;
}

/** What the instruments read when scraped: the runtime's counters, and what is asked of the broker then. */
export interface MetricsSource {
  readonly appId: string;
  readonly counters: Counters;
  /** End offset minus the group's committed offset, for each partition this instance owns. */
  lag(): Promise<readonly PartitionValue[]>;
  /** Records each dead-letter partition holds (end minus start offset). */
  deadLetters(): Promise<readonly PartitionValue[]>;
  /** Approximate bytes on disk of each open store, by store. */
  storeBytes(): Promise<ReadonlyMap<string, number>>;
  /** Each circuit breaker by its node: 0 closed, 1 half-open, 2 open. */
  breakers(): ReadonlyMap<string, number>;
  /** Partitions paused now while their work waits on retries or an open circuit. */
  pausedPartitions(): number;
  assignedPartitions(): number;
}

/** The HTTP server reports each answered request here. */
export interface RequestMetrics {
  observe(route: string, method: string, status: number, seconds: number): void;
}

/**
 * Every instrument streamrun exports, on a registry of its own per runner (prefix `streamrun_`,
 * label `app` on every series). Counting stays in the runtime's plain counters, added per batch;
 * the instruments read them when Prometheus scrapes, so the hot path never touches prom-client.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly http: RequestMetrics;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    const { counters } = source;
    this.registry.setDefaultLabels({ app: source.appId });
    collectDefaultMetrics({ register: this.registry });

    counted('streamrun_records_consumed_total', 'Records of source topics processed, counted with their acknowledged outputs (failed ones included).', ['topic', 'partition'], registers, (set) => {
      for (const [topic, partitions] of counters.consumed) {
        partitions.forEach((records, partition) => set({ topic, partition }, records));
      }
    });
    counted('streamrun_records_produced_total', 'Output and dead-letter records the broker acknowledged (changelogs not counted).', ['topic'], registers, (set) => {
      for (const [topic, records] of counters.produced) set({ topic }, records);
    });
    counted('streamrun_errors_total', 'Records that failed for good (after their retries), by node and kind.', ['node', 'kind'], registers, (set) => {
      for (const [node, records] of counters.deserializationErrors) set({ node, kind: 'deserialization' }, records);
      for (const [node, records] of counters.processingErrors) set({ node, kind: 'processing' }, records);
    });
    counted('streamrun_retries_total', 'Tries after the first, over all records.', [], registers, (set) => set({}, counters.retries));
    counted('streamrun_dead_letters_total', 'Records written to a dead-letter topic.', ['topic'], registers, (set) => {
      for (const [topic, records] of counters.deadLetters) set({ topic }, records);
    });
    counted('streamrun_late_records_total', 'Records dropped because every window they belong to had closed.', ['node'], registers, (set) => {
      for (const [node, records] of counters.late) set({ node }, records);
    });
    counted('streamrun_partition_pauses_total', 'Times a partition paused while its work waited on retries or an open circuit.', [], registers, (set) =>
      set({}, counters.pauses),
    );
    counted('streamrun_commits_total', 'Commits of a chunk of work (offsets, or a part of a transaction).', [], registers, (set) => set({}, counters.commits));
    counted('streamrun_transactions_total', 'Transactions ended (exactly-once), by outcome.', ['outcome'], registers, (set) => {
      set({ outcome: 'committed' }, counters.transactions);
      set({ outcome: 'aborted' }, counters.aborts);
    });
    counted('streamrun_restored_records_total', 'Changelog records read back into state stores.', ['store'], registers, (set) => {
      for (const [store, records] of counters.restored) set({ store }, records);
    });
    counted('streamrun_ingest_events_total', 'Events offered to the ingest endpoints (HTTP, MQTT), by outcome.', ['source', 'outcome'], registers, (set) => {
      for (const [key, events] of counters.ingest) {
        const [source, outcome] = key.split('\u0000');
        set({ source: source!, outcome: outcome! }, events);
      }
    });

    gauged('streamrun_consumer_lag_records', "Records behind: a partition's end offset minus the group's committed offset.", ['topic', 'partition'], registers, async (set) => {
      for (const { topic, partition, value } of await source.lag()) set({ topic, partition }, value);
    });
    gauged('streamrun_dlq_records', 'Records a dead-letter partition holds: end minus start offset, or its committed records under exactly-once.', ['topic', 'partition'], registers, async (set) => {
      for (const { topic, partition, value } of await source.deadLetters()) set({ topic, partition }, value);
    });
    gauged('streamrun_store_size_bytes', "Approximate bytes of a state store's files, over this instance's tasks.", ['store'], registers, async (set) => {
      for (const [store, bytes] of await source.storeBytes()) set({ store }, bytes);
    });
    gauged('streamrun_restore_remaining_records', 'Changelog offsets still to read back before the tasks restoring a store can run.', ['store'], registers, (set) => {
      for (const [store, tasks] of counters.restoring) set({ store }, [...tasks.values()].reduce((sum, n) => sum + n, 0));
    });
    gauged('streamrun_breaker_state', 'A circuit breaker: 0 closed, 1 half-open, 2 open.', ['name'], registers, (set) => {
      for (const [name, state] of source.breakers()) set({ name }, state);
    });
    gauged('streamrun_partitions_paused', 'Partitions paused now while their work waits on retries or an open circuit.', [], registers, (set) =>
      set({}, source.pausedPartitions()),
    );
    gauged('streamrun_assigned_partitions', 'Tasks (one per input partition) this instance runs.', [], registers, (set) => set({}, source.assignedPartitions()));

    bucketed('streamrun_end_to_end_latency_seconds', "From a record's timestamp to the broker acknowledging its chunk's outputs.", counters.latency, registers);
    bucketed('streamrun_batch_duration_seconds', 'Processing a fetched batch, its commits included.', counters.batchDuration, registers);
    bucketed('streamrun_commit_duration_seconds', 'Committing: outputs, stores and offsets, or a whole transaction under exactly-once.', counters.commitDuration, registers);

    const requests = new Counter({
      name: 'streamrun_http_requests_total',
      help: 'HTTP requests answered, by route, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    const durations = new PromHistogram({
      name: 'streamrun_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route.',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.http = {
      observe(route, method, status, seconds) {
        requests.inc({ route, method, status });
        durations.observe({ route }, seconds);
      },
    };
  }

  /** The text Prometheus scrapes. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

type Labels<T extends string> = Partial<Record<T, string | number>>;
type Fill<T extends string> = (set: (labels: Labels<T>, value: number) => void) => void | Promise<void>;

/** A counter whose values the runtime keeps, copied over on each scrape. */
function counted<T extends string>(name: string, help: string, labelNames: readonly T[], registers: Registry[], fill: Fill<T>): void {
  new Counter<T>({ name, help, labelNames, registers, collect: refill(fill, (counter, labels, value) => counter.inc(labels, value)) });
}

/** A gauge read when scraped. */
function gauged<T extends string>(name: string, help: string, labelNames: readonly T[], registers: Registry[], fill: Fill<T>): void {
  new Gauge<T>({ name, help, labelNames, registers, collect: refill(fill, (gauge, labels, value) => gauge.set(labels, value)) });
}

/** A collect hook: the series of the last scrape go, and `fill` writes them all anew. */
function refill<M extends { reset(): void }, T extends string>(fill: Fill<T>, write: (metric: M, labels: Labels<T>, value: number) => void) {
  return async function (this: M): Promise<void> {
    this.reset();
    await fill((labels, value) => write(this, labels, value));
  };
}

/**
 * A histogram the runtime fills in milliseconds (see runtime/histogram.ts): prom-client's own
 * would cost a label lookup per observation, so its `get` is answered from the runtime's buckets.
 */
function bucketed(name: string, help: string, histogram: Histogram, registers: Registry[]): void {
  const seconds = histogram.bounds.map((ms) => ms / 1000);
  const scraped = new PromHistogram({ name, help, buckets: seconds, registers });
  const answer = async () => {
    const values: { value: number; labels: Labels<'le'>; metricName: string }[] = [];
    let cumulative = 0;
    seconds.forEach((le, bucket) => {
      cumulative += histogram.counts[bucket]!;
      values.push({ value: cumulative, labels: { le }, metricName: `${name}_bucket` });
    });
    values.push({ value: histogram.count, labels: { le: '+Inf' }, metricName: `${name}_bucket` });
    values.push({ value: histogram.sum / 1000, labels: {}, metricName: `${name}_sum` });
    values.push({ value: histogram.count, labels: {}, metricName: `${name}_count` });
    // What the registry reads of a metric; prom-client's type also wants its collect hook.
    return { name, help, type: 'histogram', aggregator: 'sum', values } as unknown as Awaited<ReturnType<PromHistogram['get']>>;
  };
  // The registry asks `getForPromString` (untyped) for the text, and `get` for JSON: both answer the same.
  Object.assign(scraped, { get: answer, getForPromString: answer });
}
