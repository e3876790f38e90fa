import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import { bucketsSince, quantile, type Bucket } from './quantile.ts';

export interface Percentiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
}

export interface BreakerState {
  /** The node the breaker guards. */
  readonly name: string;
  readonly state: 'closed' | 'half-open' | 'open';
}

/** Between this snapshot and one taken a few seconds before it. */
export interface RecentWindow {
  readonly seconds: number;
  readonly consumedPerSecond: number;
  readonly producedPerSecond: number;
  /** End-to-end latency in ms of the records acknowledged in the window; null when there were none. */
  readonly latency: Percentiles;
}

/**
 * What the dashboard (`GET /dashboard/snapshot`) and `streamrun top` show of a runner: the
 * numbers `GET /metrics` has at that moment, summed over their labels. Counts are since the runner started.
 */
export interface Snapshot {
  readonly appId: string;
  /** When it was read, ms since the epoch. */
  readonly time: number;
  readonly consumed: number;
  /** Output and dead-letter records the broker acknowledged. */
  readonly produced: number;
  /** Records sent to a dead-letter topic. */
  readonly deadLetters: number;
  /** Records that failed for good (deserialization and processing). */
  readonly errors: number;
  readonly lagTotal: number;
  /** By topic, then partition: the partitions this instance owns. */
  readonly lagByPartition: readonly PartitionLag[];
  /** Records the dead-letter topics hold now. */
  readonly dlqRecords: number;
  /** End-to-end latency in ms over the whole histogram, since the runner started; null before the first record. */
  readonly latency: Percentiles;
  readonly assignedPartitions: number;
  readonly pausedPartitions: number;
  readonly breakers: readonly BreakerState[];
  /** Null for the first snapshot of a runner: nothing to compare with yet. */
  readonly recent: RecentWindow | null;
}

/** How far back `recent` looks, at least: a few polls, so one slow poll does not make the rates jump. */
export const recentWindowMs = 5_000;
/** Snapshots closer together than this share their sample: however often clients ask, few are kept. */
const sampleSpacingMs = 500;

/** The counts `recent` compares: kept from earlier snapshots. */
interface Sample {
  readonly time: number;
  readonly consumed: number;
  readonly produced: number;
  readonly latency: readonly Bucket[];
}

/**
 * Reads snapshots off a runner's metrics registry. `recent` compares each with a sample kept from
 * an earlier one, so every client (a browser, `streamrun top --once`) gets the same rates and
 * recent percentiles without keeping history of its own: the newest sample at least
 * `recentWindowMs` old, else the oldest kept.
 *
 * @example
 * const snapshots = new SnapshotReader(metrics.registry, 'wordcount');
 * const { consumed, lagTotal, recent } = await snapshots.read();
 */
export class SnapshotReader {
  readonly #registry: Registry;
  readonly #appId: string;
  readonly #now: () => number;
  readonly #samples: Sample[] = [];

  constructor(registry: Registry, appId: string, now: () => number = Date.now) {
    this.#registry = registry;
    this.#appId = appId;
    this.#now = now;
  }

  async read(): Promise<Snapshot> {
    const metrics = new Map((await this.#registry.getMetricsAsJSON()).map((metric) => [metric.name, metric]));
    const time = this.#now();
    const values = (name: string) => metrics.get(name)?.values ?? [];
    const total = (name: string) => sum(values(name));
    const lagByPartition = values('streamrun_consumer_lag_records')
      .map(({ labels, value }) => ({ topic: String(labels['topic']), partition: Number(labels['partition']), lag: value }))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    const latency = bucketsOf(metrics.get('streamrun_end_to_end_latency_seconds'));
    const sample: Sample = { time, consumed: total('streamrun_records_consumed_total'), produced: total('streamrun_records_produced_total'), latency };
    const recent = this.#recent(sample);
    return {
      appId: this.#appId,
      time,
      consumed: sample.consumed,
      produced: sample.produced,
      deadLetters: total('streamrun_dead_letters_total'),
      errors: total('streamrun_errors_total'),
      lagTotal: total('streamrun_consumer_lag_records'),
      lagByPartition,
      dlqRecords: total('streamrun_dlq_records'),
      latency: percentiles(latency),
      assignedPartitions: total('streamrun_assigned_partitions'),
      pausedPartitions: total('streamrun_partitions_paused'),
      breakers: values('streamrun_breaker_state').map(({ labels, value }) => ({ name: String(labels['name']), state: breakerStates[value] ?? 'open' })),
      recent,
    };
  }

  /** Compares with the kept sample, then keeps this one (unless another was kept just before). */
  #recent(sample: Sample): RecentWindow | null {
    const samples = this.#samples;
    // Only the newest sample old enough to compare with is needed, and those after it.
    while (samples.length > 1 && samples[1]!.time <= sample.time - recentWindowMs) samples.shift();
    const base = samples[0];
    if (samples.length === 0 || sample.time - samples.at(-1)!.time >= sampleSpacingMs) samples.push(sample);
    if (base === undefined || base.time >= sample.time) return null;
    const seconds = (sample.time - base.time) / 1000;
    return {
      seconds,
      consumedPerSecond: (sample.consumed - base.consumed) / seconds,
      producedPerSecond: (sample.produced - base.produced) / seconds,
      latency: percentiles(bucketsSince(base.latency, sample.latency)),
    };
  }
}

/** The gauge's values, as streamrun_breaker_state documents them. */
const breakerStates: readonly BreakerState['state'][] = ['closed', 'half-open', 'open'];

function sum(values: readonly { value: number }[]): number {
  return values.reduce((total, { value }) => total + value, 0);
}

function percentiles(buckets: readonly Bucket[]): Percentiles {
  return { p50: quantile(0.5, buckets), p95: quantile(0.95, buckets), p99: quantile(0.99, buckets) };
}

/** A histogram's cumulative buckets in ms, summed over its series as `sum by (le)` would. */
function bucketsOf(metric: MetricObjectWithValues<MetricValue<string>> | undefined): Bucket[] {
  const counts = new Map<number, number>();
  for (const entry of metric?.values ?? []) {
    // The registry's type forgets that a histogram's values name their series.
    if (!('metricName' in entry) || entry.metricName !== `${metric!.name}_bucket`) continue;
    const { labels, value } = entry;
    const le = labels['le'] === '+Inf' ? Infinity : Number(labels['le']) * 1000;
    counts.set(le, (counts.get(le) ?? 0) + value);
  }
  return [...counts].sort(([a], [b]) => a - b).map(([le, count]) => ({ le, count }));
}
