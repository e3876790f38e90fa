import type { GraphBuilder } from './builder.ts';
import { StreamImpl, type InheritedSerdes, type Stream } from './stream.ts';

/**
 * The latest value per key, kept in a state store that survives restarts through its
 * changelog topic. Made by `groupByKey().count()`, `.reduce()` or `.aggregate()`.
 *
 * @example
 * const counts: Table<string, number> = words.groupByKey().count({ name: 'word-counts' });
 * counts.toStream().to('word-counts', { value: serdes.json<number>() });
 */
declare const tableTypes: unique symbol;

export interface Table<K, V> {
  /**
   * Types only, never set: keeps `Table<string, V>` and `Table<number, V>` apart, so a join
   * with a table of other keys does not compile.
   */
  readonly [tableTypes]?: { key: (key: K) => K; value: (value: V) => V };

  /** The state store holding the table; queryable by this name. */
  readonly store: string;

  /**
   * Every change to the table as a stream of (key, new value), in the order they happened.
   *
   * @example
   * counts.toStream().filter((n) => n >= 100).to('popular-words');
   */
  toStream(): Stream<K, V>;
}

/** Internal: a table is a handle on the aggregate node that keeps it. */
export class TableImpl<K, V> implements Table<K, V> {
  readonly store: string;
  /** The topology it belongs to: a join may only use a table of its own topology. */
  readonly builder: GraphBuilder;
  readonly #serdes: InheritedSerdes;

  constructor(builder: GraphBuilder, store: string, serdes: InheritedSerdes) {
    this.builder = builder;
    this.store = store;
    this.#serdes = serdes;
  }

  toStream(): Stream<K, V> {
    return new StreamImpl<K, V>(this.builder, this.store, this.#serdes);
  }
}
