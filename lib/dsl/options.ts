import type { BreakerOptions } from '../errors/breaker.ts';
import type { ErrorPolicy } from '../errors/policy.ts';
import type { RecordContext } from '../graph/nodes.ts';

/** Options every operator takes. */
export interface NamedOptions {
  /**
   * The node's name instead of the generated `<kind>-<n>`; unique in the topology, made of
   * letters, digits, '.', '_' and '-'. Name nodes whose names must survive edits to the
   * topology.
   */
  readonly name?: string;
  /**
   * What happens to records this node throws on (for a source: records it cannot read);
   * fields left out come from the runner's `errors` option.
   *
   * @example
   * orders.mapValues(price, { name: 'price', errors: { retries: 0, deadLetterTopic: 'unpriced' } });
   */
  readonly errors?: ErrorPolicy;
}

/** Tells which records go on; may narrow the value's type (`(v) => v is T`). */
export type Predicate<K, V> = (value: V, key: K, context: RecordContext) => boolean;

/**
 * A serde a sink can write `T` with. Only writing matters to a sink, so `serialize` is checked
 * strictly (it is a property, not a method): a `Serde<string>` can write a stream of
 * `'a' | 'b'`, but not one of `string | number`.
 */
export interface SinkSerde<T> {
  readonly name: string;
  readonly serialize: (value: T) => Buffer;
  deserialize(data: Buffer): unknown;
}

/** The serdes given to `to()`; each one left out is the stream's own or `serdes.auto`. */
export interface SinkSerdes<K, V> {
  readonly key?: SinkSerde<K>;
  readonly value?: SinkSerde<V>;
}

/** Options of a windowed stream–stream `join`, `leftJoin` and `outerJoin`. */
export interface StreamJoinOptions extends NamedOptions {
  /**
   * What becomes of a record that comes after its join window closed (stream time past its
   * window end plus grace): by default counted late and joined with whatever partners are still
   * buffered, as Kafka Streams does; with 'dead-letter' it is not joined but sent to the
   * dead-letter topic, with the window and the stream time in its headers, to be replayed.
   */
  readonly late?: 'drop' | 'dead-letter';
}

/** Options of `enrich`. */
export interface EnrichOptions extends NamedOptions {
  /** Calls in flight per task; intake pauses while this many wait. Default 16. */
  readonly concurrency?: number;
  /** When the dependency counts as down, and how soon to try it again. */
  readonly breaker?: BreakerOptions;
}
