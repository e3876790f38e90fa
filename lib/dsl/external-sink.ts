import type { BreakerOptions } from '../errors/breaker.ts';
import type { RecordContext } from '../graph/nodes.ts';
import type { NamedOptions } from './options.ts';

/** One record handed to an external sink, with the context of the input record it came from. */
export interface SinkRecord<K, V> {
  readonly key: K;
  readonly value: V;
  readonly context: RecordContext;
}

/**
 * A destination outside Kafka (a database, an HTTP service) that `stream.sink()` writes to.
 * The runner calls `write` once per task commit with every record since the last one and
 * commits the input offsets only after it resolved, so nothing is lost; after a crash a batch
 * may come again, so `write` must be idempotent (an upsert keyed by the record's id).
 *
 * @example
 * const audit: ExternalSink<string, Order> = {
 *   name: 'audit service',
 *   write: (records) => auditClient.putAll(records.map((r) => r.value)),
 * };
 */
export interface ExternalSink<K, V> {
  /** What `describe()` shows, e.g. `postgres events`. */
  readonly name: string;
  write(records: readonly SinkRecord<K, V>[]): Promise<void>;
  /**
   * Tells an error about the records (a constraint the data breaks) from one about the sink
   * (down, no rights). A refused batch is split in halves and written again until the records
   * it refuses stand alone: only those are dead-lettered, at once; any other error is retried
   * and counts towards the circuit breaker. Default: every error is about the sink.
   */
  rejects?(error: unknown): boolean;
}

/** Options of `stream.sink()`. */
export interface ExternalSinkOptions extends NamedOptions {
  /** When the sink counts as down (its partitions pause), and how soon to try it again. */
  readonly breaker?: BreakerOptions;
}
