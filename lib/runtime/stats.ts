import { durationBoundsMs, Histogram, latencyBoundsMs } from './histogram.ts';

/** Counters a runner keeps; read them with `runner.stats()`. */
export interface RunnerStats {
  /**
   * Records of source topics processed, counted with their outputs once the broker acknowledged
   * those (under exactly-once: once their transaction committed), failed ones included. Under
   * at-least-once a record read again after a commit failed counts again, as its outputs are
   * written again; under exactly-once each counts once.
   */
  consumed: number;
  /** Records acknowledged by the broker on output and dead-letter topics (not changelogs). */
  produced: number;
  /** Offset commits that succeeded. */
  commits: number;
  /** Records whose bytes did not deserialize (dead-lettered or skipped). */
  deserializationErrors: number;
  /** Records a node kept throwing on after every retry (dead-lettered or skipped). */
  processingErrors: number;
  /** Tries after the first, over all records. */
  retries: number;
  /** Times a partition paused while its work waited on retries or an open circuit. */
  pauses: number;
  /** Records written to the dead-letter topic. */
  deadLettered: number;
  /** Records dropped because every window they belong to had closed (behind end + grace). */
  lateRecords: number;
  /** Changelog records read back into state stores. */
  restoredRecords: number;
  /** Transactions committed (exactly-once). */
  transactions: number;
  /** Transactions aborted, each rolling every task back to its last commit (exactly-once). */
  aborts: number;
}

/**
 * What the runtime counts, per batch and by label: `runner.stats()` sums it, and the metrics
 * module reads it when scraped, so counting costs the hot path a few additions and no more.
 */
export class Counters {
  commits = 0;
  retries = 0;
  pauses = 0;
  transactions = 0;
  aborts = 0;
  /** By source topic, then by partition (see RunnerStats.consumed). */
  readonly consumed = new Map<string, number[]>();
  /** Acknowledged outputs and dead letters by topic (changelogs are not counted). */
  readonly produced = new Map<string, number>();
  /** By dead-letter topic. */
  readonly deadLetters = new Map<string, number>();
  /** Records that failed for good, by node. */
  readonly deserializationErrors = new Map<string, number>();
  readonly processingErrors = new Map<string, number>();
  /** Late records dropped, by node. */
  readonly late = new Map<string, number>();
  /** Changelog records read back, by store. */
  readonly restored = new Map<string, number>();
  /** Changelog offsets still to read back, by store, then by task: a task leaves once restored. */
  readonly restoring = new Map<string, Map<string, number>>();
  /** Events offered to ingest endpoints, by `<source>\u0000<accepted|refused>`. */
  readonly ingest = new Map<string, number>();
  /** Record timestamp to the broker's acknowledgement of its chunk's outputs, in ms. */
  readonly latency = new Histogram(latencyBoundsMs);
  readonly batchDuration = new Histogram(durationBoundsMs);
  readonly commitDuration = new Histogram(durationBoundsMs);

  addConsumed(topic: string, partition: number, records: number): void {
    let partitions = this.consumed.get(topic);
    if (partitions === undefined) {
      partitions = [];
      this.consumed.set(topic, partitions);
    }
    partitions[partition] = (partitions[partition] ?? 0) + records;
  }

  addRestored(store: string, task: string, records: number, remaining: bigint): void {
    addTo(this.restored, store, records);
    let tasks = this.restoring.get(store);
    if (tasks === undefined) {
      tasks = new Map();
      this.restoring.set(store, tasks);
    }
    if (remaining > 0n) tasks.set(task, Number(remaining));
    else tasks.delete(task);
  }

  snapshot(): RunnerStats {
    let consumed = 0;
    for (const partitions of this.consumed.values()) for (const records of partitions) consumed += records ?? 0;
    return {
      consumed,
      produced: total(this.produced),
      commits: this.commits,
      deserializationErrors: total(this.deserializationErrors),
      processingErrors: total(this.processingErrors),
      retries: this.retries,
      pauses: this.pauses,
      deadLettered: total(this.deadLetters),
      lateRecords: total(this.late),
      restoredRecords: total(this.restored),
      transactions: this.transactions,
      aborts: this.aborts,
    };
  }
}

/** Adds `n` to a count kept by label. */
export function addTo(counts: Map<string, number>, label: string, n = 1): void {
  counts.set(label, (counts.get(label) ?? 0) + n);
}

function total(counts: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const n of counts.values()) sum += n;
  return sum;
}
