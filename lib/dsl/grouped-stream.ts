import type {
  AggregateNode,
  GraphNode,
  RecordContext,
  SessionAggregateNode,
  SlidingAggregateNode,
  WindowedAggregateNode,
} from '../graph/nodes.ts';
import { serdes as builtin } from '../serde/builtin.ts';
import type { Serde } from '../serde/serde.ts';
import { checkFunction, checkObject, checkSerde, nameOption } from './arguments.ts';
import { invalid, show } from './naming.ts';
import type { GraphBuilder } from './builder.ts';
import { TableImpl, type Table } from './table.ts';
import type { SessionWindows, SlidingWindows, TimeWindows, Windowed } from './windows.ts';

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

/** Options of a windowed aggregation. */
export interface WindowedStoreOptions<A> extends StoreOptions<A> {
  /**
   * `'update'` (default) passes on every new aggregate of a window; `'final'` passes on each
   * window once, when stream time passes its end plus grace.
   */
  readonly emit?: 'update' | 'final';
  /**
   * Session windows only, and required by `aggregate` there: combines the aggregates of two
   * sessions a record bridges (count and reduce know how).
   */
  readonly merge?: (left: A, right: A) => A;
}

/**
 * A grouped stream cut into time windows, ready to be folded into a windowed table.
 *
 * @example
 * readings.groupByKey().windowedBy(tumbling(10_000).grace(5_000)).count({ name: 'per-10s', emit: 'final' });
 */
export interface WindowedGroupedStream<K, V> {
  /** Counts the records per key and window. */
  count(options?: Omit<WindowedStoreOptions<number>, 'value'>): Table<Windowed<K>, number>;
  /** Combines the values per key and window; a window's first value is its start. */
  reduce(reducer: (aggregate: V, value: V, key: K) => V, options?: WindowedStoreOptions<V>): Table<Windowed<K>, V>;
  /** Folds the values per key and window, each window starting from `initializer()`. */
  aggregate<A>(
    initializer: () => A,
    aggregator: (aggregate: A, value: V, key: K) => A,
    options?: WindowedStoreOptions<A>,
  ): Table<Windowed<K>, A>;
}

/** Where event time comes from: the record's timestamp unless an extractor is given. */
export interface WindowingOptions<K, V> {
  readonly timestamp?: (value: V, key: K, context: RecordContext) => number;
  /**
   * What becomes of a record that comes after every window it belongs to closed: dropped and
   * counted (the default), or also sent to the dead-letter topic, with the window and the
   * stream time in its headers.
   */
  readonly late?: 'drop' | 'dead-letter';
}

interface Windowing {
  readonly windows: TimeWindows | SessionWindows | SlidingWindows;
  readonly timestamp: WindowedAggregateNode['timestamp'];
  readonly late: 'drop' | 'dead-letter';
  readonly emit: 'update' | 'final';
  readonly merger: ((left: never, right: never, key: never) => unknown) | undefined;
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

  /**
   * Cuts each key's records into time windows by event time (the record's timestamp, or
   * `options.timestamp`). Records behind a window's end plus grace are late: dropped, counted
   * in `runner.stats().lateRecords` and logged at debug level.
   *
   * @example
   * readings.groupByKey().windowedBy(hopping(60_000, 10_000), { timestamp: (r) => r.ts });
   * readings.groupByKey().windowedBy(sliding(60_000).grace(5_000)).count({ name: 'per-minute' });
   */
  windowedBy(
    windows: TimeWindows | SessionWindows | SlidingWindows,
    options?: WindowingOptions<K, V>,
  ): WindowedGroupedStream<K, V>;
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

  windowedBy(
    windows: TimeWindows | SessionWindows | SlidingWindows,
    options?: WindowingOptions<K, V>,
  ): WindowedGroupedStream<K, V> {
    const where = this.#where('windowedBy');
    checkObject(windows, where, 'windows (tumbling(ms), hopping(ms, ms), session(ms) or sliding(ms))');
    if (options?.timestamp !== undefined) checkFunction(options.timestamp, where, 'options.timestamp');
    const timestamp = options?.timestamp as WindowedAggregateNode['timestamp'];
    const late = options?.late ?? 'drop';
    if (late !== 'drop' && late !== 'dead-letter') throw invalid(`${where}: late must be 'drop' or 'dead-letter', got ${show(late)}`);
    const windowed = (emit: 'update' | 'final' | undefined, merger?: Windowing['merger']): Windowing => ({
      windows,
      timestamp,
      late,
      emit: emit ?? 'update',
      merger,
    });
    // Windowed tables are the same aggregations with a window in the key.
    return {
      count: (o) =>
        this.#aggregate('count', () => 0, (n: number) => n + 1, { ...o, value: builtin.json<number>() }, windowed(o?.emit, (a: number, b: number) => a + b)) as never,
      reduce: (reducer, o) => {
        checkFunction(reducer, this.#where('reduce'));
        return this.#aggregate<V | typeof noAggregate>(
          'reduce',
          () => noAggregate,
          (aggregate: V | typeof noAggregate, value: V, key: K) => (aggregate === noAggregate ? value : reducer(aggregate, value, key)),
          o,
          windowed(o?.emit, (a: V | typeof noAggregate, b: V | typeof noAggregate, key: K) =>
            a === noAggregate ? b : b === noAggregate ? a : reducer(a, b, key),
          ),
        ) as never;
      },
      aggregate: (initializer, aggregator, o) => {
        if (windows.kind === 'session' && o?.merge === undefined) {
          throw invalid(`${this.#where('aggregate')}: session windows need { merge: (a, b) => … } to combine sessions a record bridges`);
        }
        return this.#aggregate('aggregate', initializer, aggregator, o, windowed(o?.emit, o?.merge as Windowing['merger'])) as never;
      },
    };
  }

  #aggregate<A>(
    operator: string,
    initializer: () => A,
    aggregator: (aggregate: A, value: V, key: K) => A,
    options: StoreOptions<A> | undefined,
    windowing?: Windowing,
  ): Table<K, A> {
    const where = this.#where(operator);
    // First: the `in` check below throws a TypeError on what is not an object.
    if (options !== undefined) checkObject(options, where, 'options');
    if (options !== undefined && 'emit' in options && !['update', 'final', undefined].includes(options.emit as string)) {
      throw invalid(`${where}: emit must be 'update' or 'final', got ${show(options.emit)}`);
    }
    checkFunction(initializer, where, 'the initializer');
    checkFunction(aggregator, where, 'the aggregator');
    const named = nameOption(options, where) !== undefined;
    const serdes = {
      key: this.#keySerde,
      value: options?.value === undefined ? builtin.json() : checkSerde(options.value, where, 'options.value'),
    };
    const repartition = this.#repartition;
    const name = this.#builder.append('aggregate', where, options, (name): GraphNode[] => {
      const common = {
        name,
        store: name,
        named,
        // Stored type-erased, like every callback in the graph.
        initializer,
        aggregator: aggregator as AggregateNode['aggregator'],
        serdes,
      };
      const aggregate = (parent: string): AggregateNode | WindowedAggregateNode | SessionAggregateNode | SlidingAggregateNode =>
        windowing === undefined
          ? { kind: 'aggregate', parents: [parent], ...common }
          : windowing.windows.kind === 'sliding'
            ? {
                kind: 'slidingAggregate',
                parents: [parent],
                ...common,
                timeDifference: windowing.windows.timeDifference,
                grace: windowing.windows.graceMs,
                emit: windowing.emit,
                timestamp: windowing.timestamp,
                late: windowing.late,
              }
          : windowing.windows.kind === 'session'
            ? {
                kind: 'sessionAggregate',
                parents: [parent],
                ...common,
                gap: windowing.windows.gap,
                grace: windowing.windows.graceMs,
                emit: windowing.emit,
                timestamp: windowing.timestamp,
                late: windowing.late,
                merger: windowing.merger as unknown as SessionAggregateNode['merger'],
              }
            : {
              kind: 'windowedAggregate',
              parents: [parent],
              ...common,
              windows: { size: windowing.windows.size, advance: windowing.windows.advance, grace: windowing.windows.graceMs },
              emit: windowing.emit,
              timestamp: windowing.timestamp,
              late: windowing.late,
            };
      if (repartition === undefined) return [aggregate(this.#parent)];
      const topic = repartitionTopic(this.#builder.appId, name);
      const io = { key: this.#keySerde, value: repartition.value };
      return [
        { kind: 'sink', name: `${name}-repartition-sink`, parents: [this.#parent], topic, serdes: io, internal: true },
        { kind: 'source', name: `${name}-repartition-source`, parents: [], topic, serdes: io, internal: true },
        aggregate(`${name}-repartition-source`),
      ];
    });
    // A windowed key goes out as JSON ({ key, start, end }) unless `to()` is given a serde; its
    // partition is chosen by the key inside, serialized as the group's keys are.
    const windowedSerdes = { key: builtin.json(), value: serdes.value, windowedKey: serdes.key };
    const joined = { changes: name, store: name };
    return new TableImpl<K, A>(this.#builder, name, windowing === undefined ? serdes : windowedSerdes, joined);
  }

  #where(operator: string): string {
    return `groupByKey().${operator}() after ${this.#parent}`;
  }
}
