import type { AggregateNode, GraphNode } from '../graph/nodes.ts';
import { serdes as builtin } from '../serde/builtin.ts';
import type { Serde } from '../serde/serde.ts';
import { checkFunction, checkObject, checkSerde, nameOption } from './arguments.ts';
import type { GraphBuilder } from './builder.ts';
import { TableImpl, type Table } from './table.ts';

/** Options of a stateful operator. */
export interface StoreOptions<A> {
  /**
   * The node's and state store's name. Name every stateful operator: the store and its
   * changelog topic (`<appId>-<name>-changelog`) are found again by this name after a
   * restart, and a generated name moves when the topology changes.
   */
  readonly name?: string;
  /** How the aggregate is kept in the store and its changelog. Default: `serdes.json()`. */
  readonly value?: Serde<A>;
}

/**
 * A stream grouped by key, ready to be folded into a table.
 *
 * @example
 * words.groupByKey().count({ name: 'counts' });
 */
export interface GroupedStream<K, V> {
  /**
   * Counts the records per key.
   *
   * @example
   * words.groupByKey().count({ name: 'word-counts' }); // Table<string, number>
   */
  count(options?: Omit<StoreOptions<number>, 'value'>): Table<K, number>;

  /**
   * Combines the values per key; the first value of a key is its start.
   *
   * @example
   * amounts.groupByKey().reduce((sum, amount) => sum + amount, { name: 'totals' });
   */
  reduce(reducer: (aggregate: V, value: V, key: K) => V, options?: StoreOptions<V>): Table<K, V>;

  /**
   * Folds the values per key into an aggregate of any type, starting from `initializer()`.
   *
   * @example
   * readings.groupByKey().aggregate(
   *   () => ({ count: 0, sum: 0 }),
   *   (agg, r) => ({ count: agg.count + 1, sum: agg.sum + r.value }),
   *   { name: 'sensor-totals' },
   * );
   */
  aggregate<A>(
    initializer: () => A,
    aggregator: (aggregate: A, value: V, key: K) => A,
    options?: StoreOptions<A>,
  ): Table<K, A>;
}

const noAggregate = Symbol('no aggregate yet');

/** Where re-keyed records meet their key's task; named after the aggregate, stable across deploys. */
export function repartitionTopic(appId: string, aggregate: string): string {
  return `${appId}-${aggregate}-repartition`;
}

/** Internal: made by `stream.groupByKey()`. */
export class GroupedStreamImpl<K, V> implements GroupedStream<K, V> {
  readonly #builder: GraphBuilder;
  readonly #parent: string;
  readonly #keySerde: Serde<unknown>;
  /** Set when the records must be repartitioned by their new key first. */
  readonly #repartition: { readonly value: Serde<unknown> } | undefined;

  constructor(
    builder: GraphBuilder,
    parent: string,
    keySerde: Serde<unknown>,
    repartition: { readonly value: Serde<unknown> } | undefined,
  ) {
    this.#builder = builder;
    this.#parent = parent;
    this.#keySerde = keySerde;
    this.#repartition = repartition;
  }

  count(options?: Omit<StoreOptions<number>, 'value'>): Table<K, number> {
    return this.#aggregate('count', () => 0, (n: number) => n + 1, { ...options, value: builtin.json<number>() });
  }

  reduce(reducer: (aggregate: V, value: V, key: K) => V, options?: StoreOptions<V>): Table<K, V> {
    checkFunction(reducer, this.#where('reduce'));
    // The store never holds the marker: the first value replaces it before anything is kept.
    return this.#aggregate<V | typeof noAggregate>(
      'reduce',
      () => noAggregate,
      (aggregate: V | typeof noAggregate, value: V, key: K) =>
        aggregate === noAggregate ? value : reducer(aggregate, value, key),
      options,
    ) as Table<K, V>;
  }

  aggregate<A>(
    initializer: () => A,
    aggregator: (aggregate: A, value: V, key: K) => A,
    options?: StoreOptions<A>,
  ): Table<K, A> {
    return this.#aggregate('aggregate', initializer, aggregator, options);
  }

  #aggregate<A>(
    operator: string,
    initializer: () => A,
    aggregator: (aggregate: A, value: V, key: K) => A,
    options: StoreOptions<A> | undefined,
  ): Table<K, A> {
    const where = this.#where(operator);
    checkFunction(initializer, where, 'the initializer');
    checkFunction(aggregator, where, 'the aggregator');
    if (options !== undefined) checkObject(options, where, 'options');
    const named = nameOption(options, where) !== undefined;
    const serdes = {
      key: this.#keySerde,
      value: options?.value === undefined ? builtin.json() : checkSerde(options.value, where, 'options.value'),
    };
    const repartition = this.#repartition;
    const name = this.#builder.append('aggregate', where, options, (name): GraphNode[] => {
      const aggregate = (parent: string): AggregateNode => ({
        kind: 'aggregate',
        name,
        parents: [parent],
        store: name,
        named,
        // Stored type-erased, like every callback in the graph.
        initializer,
        aggregator: aggregator as AggregateNode['aggregator'],
        serdes,
      });
      if (repartition === undefined) return [aggregate(this.#parent)];
      const topic = repartitionTopic(this.#builder.appId, name);
      const io = { key: this.#keySerde, value: repartition.value };
      return [
        { kind: 'sink', name: `${name}-repartition-sink`, parents: [this.#parent], topic, serdes: io, internal: true },
        { kind: 'source', name: `${name}-repartition-source`, parents: [], topic, serdes: io, internal: true },
        aggregate(`${name}-repartition-source`),
      ];
    });
    return new TableImpl<K, A>(this.#builder, name, serdes);
  }

  #where(operator: string): string {
    return `groupByKey().${operator}() after ${this.#parent}`;
  }
}
