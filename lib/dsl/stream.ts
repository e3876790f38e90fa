import type {
  BranchNode,
  FilterNode,
  FlatMapNode,
  FlatMapValuesNode,
  EnrichNode,
  GraphNode,
  JoinNode,
  KeyValue,
  MapNode,
  MapValuesNode,
  PeekNode,
  RecordContext,
  StreamJoinNode,
} from '../graph/nodes.ts';
import { serdes as builtin } from '../serde/builtin.ts';
import type { Serde } from '../serde/serde.ts';
import { checkFunction, checkObject, checkSerde, nameOption } from './arguments.ts';
import type { GraphBuilder } from './builder.ts';
import { TableImpl, type Table } from './table.ts';
import { GroupedStreamImpl, type GroupedStream } from './grouped-stream.ts';
import { branchOutputName, checkBranchName, checkTopic, invalid, show } from './naming.ts';
import type { EnrichOptions, NamedOptions, Predicate, SinkSerdes, StreamJoinOptions } from './options.ts';
import type { ExternalSink, ExternalSinkOptions } from './external-sink.ts';
import { breakerSettings } from '../errors/breaker.ts';
import type { Topology } from './topology.ts';
import type { JoinWindows } from './windows.ts';

/**
 * A stream of records with keys `K` and values `V`. Operators add a node to the topology and
 * return a new stream; nothing runs until the topology is started. Callbacks take the value
 * first, then the key and the record's context (topic, partition, offset, timestamp, headers),
 * which is only valid during the call.
 *
 * @example
 * topology('uppercase')
 *   .stream('input', { key: serdes.string, value: serdes.string })
 *   .mapValues((v) => v.toUpperCase())
 *   .to('output');
 */
export interface Stream<K, V> {
  /**
   * Replaces key and value. The stream forgets its serdes: pass them to `to()` or get
   * `serdes.auto`.
   *
   * @example
   * words.map((word, _key) => ({ key: word, value: word.length }));
   */
  map<K2, V2>(
    mapper: (value: V, key: K, context: RecordContext) => KeyValue<K2, V2>,
    options?: NamedOptions,
  ): Stream<K2, V2>;

  /**
   * Replaces the value and keeps the key (and the key's serde).
   *
   * @example
   * lines.mapValues((line) => line.length);
   */
  mapValues<V2>(
    mapper: (value: V, key: K, context: RecordContext) => V2,
    options?: NamedOptions,
  ): Stream<K, V2>;

  /**
   * Keeps the records the predicate holds for. A type guard on the value narrows the value
   * type (TypeScript infers simple guards like `(v) => v !== undefined` by itself).
   *
   * @example
   * events.filter((e): e is Click => e.type === 'click'); // Stream<K, Click>
   */
  filter<V2 extends V>(
    predicate: (value: V, key: K, context: RecordContext) => value is V2,
    options?: NamedOptions,
  ): Stream<K, V2>;
  /**
   * Keeps the records the predicate holds for. A type guard on the key narrows the key type.
   *
   * @example
   * orders.filter((_o, key) => key !== null); // Stream<string, Order>
   */
  filter<K2 extends K>(
    predicate: (value: V, key: K, context: RecordContext) => key is K2,
    options?: NamedOptions,
  ): Stream<K2, V>;
  /**
   * Keeps the records the predicate holds for.
   *
   * @example
   * orders.filter((o) => o.total > 100);
   */
  filter(predicate: Predicate<K, V>, options?: NamedOptions): Stream<K, V>;

  /**
   * Replaces each record by zero or more records (any iterable: an array, a generator).
   *
   * @example
   * lines.flatMap((line, key) => line.split(' ').map((word) => ({ key, value: word })));
   */
  flatMap<K2, V2>(
    mapper: (value: V, key: K, context: RecordContext) => Iterable<KeyValue<K2, V2>>,
    options?: NamedOptions,
  ): Stream<K2, V2>;

  /**
   * Replaces each value by zero or more values with the same key.
   *
   * @example
   * lines.flatMapValues((line) => line.split(' '));
   */
  flatMapValues<V2>(
    mapper: (value: V, key: K, context: RecordContext) => Iterable<V2>,
    options?: NamedOptions,
  ): Stream<K, V2>;

  /**
   * Replaces each value with what an asynchronous call returns (a lookup in a service, a
   * database read). Calls run concurrently, up to `concurrency` per task (default 16), and their
   * results go on in offset order. A failing call is retried by the error policy; after
   * `breaker.failures` consecutive failures (default 3) the dependency counts as down: records
   * wait, and are tried again every `breaker.halfOpenAfterMs` (default 1,000), instead of being
   * dead-lettered.
   *
   * @example
   * orders.enrich(async (o) => ({ ...o, customer: await customers.get(o.customerId) }), { name: 'customer' });
   */
  enrich<V2>(
    fn: (value: V, key: K, context: RecordContext) => Promise<V2>,
    options?: EnrichOptions,
  ): Stream<K, V2>;

  /**
   * Runs a side effect per record and passes the record on unchanged. A stream may end in a
   * peek (no sink), e.g. to write somewhere that is not Kafka.
   *
   * @example
   * orders.peek((o, k, ctx) => console.log(ctx.offset, k, o));
   */
  peek(
    action: (value: V, key: K, context: RecordContext) => void,
    options?: NamedOptions,
  ): Stream<K, V>;

  /**
   * Splits the stream by named predicates: each record goes to the first branch whose predicate
   * holds, records matching none are dropped. Branches are tried in the object's key order,
   * which is definition order except that integer-like keys ("0", "42") come first, ascending.
   * Output nodes are named `<branch node>-<branch name>`. A type-guard predicate narrows its
   * branch's value type.
   *
   * @example
   * const { big, small } = orders.branch({
   *   big: (o) => o.total >= 100,
   *   small: () => true,
   * });
   * big.to('big-orders');
   * small.to('small-orders');
   */
  branch<const B extends Readonly<Record<string, Predicate<K, V>>>>(
    predicates: B,
    options?: NamedOptions,
  ): BranchStreams<K, V, B>;

  /**
   * One stream with the records of this stream and the others, in arrival order. All must
   * come from the same topology.
   *
   * @example
   * const all = webOrders.merge(appOrders, shopOrders);
   */
  merge(...others: Stream<K, V>[]): Stream<K, V>;

  /**
   * Groups the records by their key, to count, reduce or aggregate them into a table. Records
   * without a key are skipped by the aggregation. The key serde (for the store and its
   * changelog) is the stream's own while known, else the one given, else `serdes.auto`.
   * After a `map` or `flatMap` the records go through the topic
   * `<appId>-<aggregate name>-repartition` first, so each key is counted by one task; their
   * values cross it with the stream's value serde, or `serdes.json()` when that is unknown.
   *
   * @example
   * words.groupByKey({ key: serdes.string }).count({ name: 'word-counts' });
   */
  groupByKey(serdes?: { readonly key?: Serde<NonNullable<K>> }): GroupedStream<NonNullable<K>, V>;

  /**
   * Groups the records by a key chosen from each record (a re-key, so they cross a
   * repartition topic), to count, reduce or aggregate them. Values keep their serde.
   *
   * @example
   * orders.groupBy((o) => o.customerId, { key: serdes.string }).count({ name: 'orders-per-customer' });
   */
  groupBy<K2>(
    selector: (value: V, key: K, context: RecordContext) => K2,
    serdes?: { readonly key?: Serde<NonNullable<K2>> },
  ): GroupedStream<NonNullable<K2>, V>;

  /**
   * Enriches each record with the value its key has in a table (`topology.table()` or an
   * aggregate) at that moment; records whose key the table lacks are dropped. The stream and
   * the table's topic must be co-partitioned (same partition count, same keys); a re-keyed
   * stream must be written to a topic and read again first.
   *
   * @example
   * clicks.join(users, (click, user) => ({ ...click, country: user.country }));
   */
  join<VT, R>(
    table: Table<NonNullable<K>, VT>,
    joiner: (value: V, tableValue: VT, key: NonNullable<K>) => R,
    options?: NamedOptions,
  ): Stream<NonNullable<K>, R>;

  /**
   * Like `join`, but records whose key the table lacks go on with `tableValue` null.
   *
   * @example
   * clicks.leftJoin(users, (click, user) => ({ ...click, country: user?.country ?? 'unknown' }));
   */
  leftJoin<VT, R>(
    table: Table<NonNullable<K>, VT>,
    joiner: (value: V, tableValue: VT | null, key: K) => R,
    options?: NamedOptions,
  ): Stream<K, R>;

  /**
   * Joins each record with the records of `other` that have its key and lie within `windows`
   * of it in event time (a record at t meets the other stream's records in
   * [t - before, t + after]), whichever comes first: both streams are buffered, for the window
   * plus the grace, in stores that survive restarts through their changelogs
   * (`<name>-left` and `<name>-right`). A result carries the later of its two records'
   * timestamps. Records without a key are dropped. The streams must be co-partitioned (same
   * partition count, same keys) and not re-keyed.
   *
   * @example
   * orders.join(payments, (order, payment) => ({ order, payment }), joinWindows(5 * 60_000), { name: 'paid' });
   */
  join<VO, R>(
    other: Stream<NonNullable<K> | null, VO>,
    joiner: (value: V, otherValue: VO, key: NonNullable<K>) => R,
    windows: JoinWindows,
    options?: StreamJoinOptions,
  ): Stream<NonNullable<K>, R>;

  /**
   * Like the windowed `join`, but a record of this stream that no record of `other` joins goes
   * on with `otherValue` null once its window closed (stream time past its window end plus
   * grace), or at once when it has no key; one that a later record of `other` joins does not.
   * They wait in `<name>-unmatched`.
   *
   * @example
   * orders.leftJoin(payments, (order, payment) => ({ order, paid: payment !== null }), joinWindows(60_000).grace(10_000));
   */
  leftJoin<VO, R>(
    other: Stream<NonNullable<K> | null, VO>,
    joiner: (value: V, otherValue: VO | null, key: K) => R,
    windows: JoinWindows,
    options?: StreamJoinOptions,
  ): Stream<K, R>;

  /**
   * Like the windowed `leftJoin`, both ways: records of either stream that find no partner go
   * on with the missing side null.
   *
   * @example
   * requests.outerJoin(responses, (request, response) => ({ request, response }), joinWindows(30_000));
   */
  outerJoin<VO, R>(
    other: Stream<NonNullable<K> | null, VO>,
    joiner: (value: V | null, otherValue: VO | null, key: K) => R,
    windows: JoinWindows,
    options?: StreamJoinOptions,
  ): Stream<K, R>;

  /**
   * Writes the stream to a topic and returns the topology, so a chain can be exported as is.
   * Each serde left out is the stream's own when the type did not change since the source
   * (`filter`, `peek`, `branch` and `merge` keep both, `mapValues` and `flatMapValues` the
   * key's), otherwise `serdes.auto`. Null keys and values are written as null, without the
   * serde.
   *
   * @example
   * export default topology('lengths')
   *   .stream('lines', { key: serdes.string, value: serdes.string })
   *   .mapValues((line) => line.length)
   *   .to('lengths', { value: serdes.json<number>() });
   */
  to(
    topic: string,
    serdes?: SinkSerdes<NonNullable<K>, NonNullable<V>>,
    options?: NamedOptions,
  ): Topology;

  /**
   * Writes the stream to a destination outside Kafka (see `ExternalSink`), one batch per task
   * commit, before the input offsets are committed. A sink that keeps failing opens its circuit
   * breaker: its partitions pause, nothing is dead-lettered, and writing resumes when it is back.
   *
   * @example
   * events.sink(postgresSink({ db, table: 'events', key: ['id'], row: (r) => r.value }), { name: 'events-db' });
   */
  sink(sink: ExternalSink<K, V>, options?: ExternalSinkOptions): Topology;
}

/** What `branch` returns: one stream per predicate name, narrowed by type-guard predicates. */
export type BranchStreams<K, V, B> = {
  readonly [P in keyof B]: Stream<K, BranchValue<V, B[P]>>;
};

type BranchValue<V, F> = F extends (value: V, ...rest: never[]) => value is (infer V2 extends V)
  ? V2
  : V;

/** The serdes a stream passes on to `to()`: known while the type has not changed. */
export interface InheritedSerdes {
  readonly key?: Serde<unknown> | undefined;
  readonly value?: Serde<unknown> | undefined;
  /** While the keys are a windowed aggregation's windows: the serde of the key inside them. */
  readonly windowedKey?: Serde<unknown> | undefined;
}

type OneFunctionNode =
  | MapNode
  | MapValuesNode
  | FilterNode
  | FlatMapNode
  | FlatMapValuesNode
  | PeekNode;

/** Internal: users get it as a `Stream`; `topology.stream()` makes the first one. */
export class StreamImpl<K, V> implements Stream<K, V> {
  readonly #builder: GraphBuilder;
  /** The node whose output this stream is. */
  readonly #node: string;
  readonly #serdes: InheritedSerdes;
  /** Whether a `map` or `flatMap` may have moved records to keys of another partition. */
  readonly #rekeyed: boolean;

  constructor(builder: GraphBuilder, node: string, serdes: InheritedSerdes, rekeyed = false) {
    this.#builder = builder;
    this.#node = node;
    this.#serdes = serdes;
    this.#rekeyed = rekeyed;
  }

  map<K2, V2>(
    mapper: (value: V, key: K, context: RecordContext) => KeyValue<K2, V2>,
    options?: NamedOptions,
  ): Stream<K2, V2> {
    return this.#fn('map', mapper, options, {}, true);
  }

  mapValues<V2>(
    mapper: (value: V, key: K, context: RecordContext) => V2,
    options?: NamedOptions,
  ): Stream<K, V2> {
    return this.#fn('mapValues', mapper, options, this.#sameKeys());
  }

  filter<V2 extends V>(
    predicate: (value: V, key: K, context: RecordContext) => value is V2,
    options?: NamedOptions,
  ): Stream<K, V2>;
  filter<K2 extends K>(
    predicate: (value: V, key: K, context: RecordContext) => key is K2,
    options?: NamedOptions,
  ): Stream<K2, V>;
  filter(predicate: Predicate<K, V>, options?: NamedOptions): Stream<K, V>;
  filter(predicate: Predicate<K, V>, options?: NamedOptions): Stream<K, V> {
    return this.#fn('filter', predicate, options, this.#serdes);
  }

  flatMap<K2, V2>(
    mapper: (value: V, key: K, context: RecordContext) => Iterable<KeyValue<K2, V2>>,
    options?: NamedOptions,
  ): Stream<K2, V2> {
    return this.#fn('flatMap', mapper, options, {}, true);
  }

  flatMapValues<V2>(
    mapper: (value: V, key: K, context: RecordContext) => Iterable<V2>,
    options?: NamedOptions,
  ): Stream<K, V2> {
    return this.#fn('flatMapValues', mapper, options, this.#sameKeys());
  }

  peek(
    action: (value: V, key: K, context: RecordContext) => void,
    options?: NamedOptions,
  ): Stream<K, V> {
    return this.#fn('peek', action, options, this.#serdes);
  }

  branch<const B extends Readonly<Record<string, Predicate<K, V>>>>(
    predicates: B,
    options?: NamedOptions,
  ): BranchStreams<K, V, B> {
    const where = this.#where('branch');
    checkObject(predicates, where, 'predicates');
    if (Array.isArray(predicates)) {
      throw invalid(
        `${where}: predicates must be named, like { big: (v) => v > 100 }; got an array`,
      );
    }
    const entries = Object.entries(predicates);
    if (entries.length === 0) {
      throw invalid(`${where}: give at least one named predicate, like { big: (v) => v > 100 }`);
    }
    const branches: BranchNode['predicates'] = entries.map(([branch, fn]) => ({
      branch: checkBranchName(branch, where),
      // Stored type-erased, like every callback in the graph.
      fn: checkFunction(fn, where, `predicate "${branch}"`) as Predicate<unknown, unknown>,
    }));
    const name = this.#builder.append('branch', where, options, (name): GraphNode[] => [
      { kind: 'branch', name, parents: [this.#node], predicates: branches } satisfies BranchNode,
      ...branches.map(({ branch }, index) => ({
        kind: 'branchOutput' as const,
        name: branchOutputName(name, branch),
        parents: [name],
        branch,
        index,
      })),
    ]);
    const outputs = branches.map(({ branch }) => [
      branch,
      new StreamImpl(this.#builder, branchOutputName(name, branch), this.#serdes, this.#rekeyed),
    ]);
    // fromEntries defines own properties, so even a branch named "__proto__" comes back.
    return Object.freeze(Object.fromEntries(outputs)) as BranchStreams<K, V, B>;
  }

  merge(...others: Stream<K, V>[]): Stream<K, V> {
    const where = this.#where('merge');
    if (others.length === 0) throw invalid(`${where}: give at least one stream to merge with`);
    const streams: StreamImpl<K, V>[] = [this];
    for (const other of others) {
      if (!(other instanceof StreamImpl) || other.#builder !== this.#builder) {
        const got =
          other instanceof StreamImpl ? `a stream of "${other.#builder.appId}"` : show(other);
        throw invalid(
          `${where}: can only merge streams of the same topology ("${this.#builder.appId}"); ` +
            `got ${got}`,
        );
      }
      if (streams.some((s) => s.#node === other.#node)) {
        throw invalid(
          `${where}: the stream from ${other.#node} is given twice; each record would be doubled`,
        );
      }
      streams.push(other);
    }
    const agreed = (pick: (s: InheritedSerdes) => Serde<unknown> | undefined) => {
      const first = pick(this.#serdes);
      return streams.every((s) => pick(s.#serdes) === first) ? first : undefined;
    };
    const serdes = { key: agreed((s) => s.key), value: agreed((s) => s.value), windowedKey: agreed((s) => s.windowedKey) };
    const parents = streams.map((s) => s.#node);
    const name = this.#builder.append('merge', where, undefined, (name) => [
      { kind: 'merge', name, parents },
    ]);
    return new StreamImpl(this.#builder, name, serdes, streams.some((s) => s.#rekeyed));
  }

  enrich<V2>(fn: (value: V, key: K, context: RecordContext) => Promise<V2>, options?: EnrichOptions): Stream<K, V2> {
    const where = this.#where('enrich');
    checkFunction(fn, where);
    const concurrency = options?.concurrency ?? 16;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw invalid(`${where}: concurrency must be a whole number ≥ 1, got ${concurrency}`);
    const breaker = breakerSettings(options?.breaker);
    const name = this.#builder.append('enrich', where, options, (name) => [
      { kind: 'enrich', name, parents: [this.#node], fn: fn as EnrichNode['fn'], concurrency, breaker },
    ]);
    return new StreamImpl(this.#builder, name, this.#sameKeys(), this.#rekeyed);
  }

  groupByKey(serdes?: { readonly key?: Serde<NonNullable<K>> }): GroupedStream<NonNullable<K>, V> {
    const where = this.#where('groupByKey');
    if (serdes !== undefined) checkObject(serdes, where, 'serdes');
    const key = this.#resolve(serdes?.key, this.#serdes.key, where, 'serdes.key');
    // After a re-key, records of one key may sit in any partition: they meet again through a
    // repartition topic before they are counted.
    const repartition = this.#rekeyed ? { value: this.#serdes.value ?? builtin.json() } : undefined;
    return new GroupedStreamImpl(this.#builder, this.#node, key, repartition);
  }

  groupBy<K2>(
    selector: (value: V, key: K, context: RecordContext) => K2,
    serdes?: { readonly key?: Serde<NonNullable<K2>> },
  ): GroupedStream<NonNullable<K2>, V> {
    checkFunction(selector, this.#where('groupBy'));
    const rekey = (value: V, key: K, context: RecordContext) => ({ key: selector(value, key, context), value });
    const rekeyed = this.#fn<K2, V>('map', rekey, undefined, { value: this.#serdes.value }, true);
    return rekeyed.groupByKey(serdes);
  }

  join<VT, R>(
    table: Table<NonNullable<K>, VT>,
    joiner: (value: V, tableValue: VT, key: NonNullable<K>) => R,
    options?: NamedOptions,
  ): Stream<NonNullable<K>, R>;
  join<VO, R>(
    other: Stream<NonNullable<K> | null, VO>,
    joiner: (value: V, otherValue: VO, key: NonNullable<K>) => R,
    windows: JoinWindows,
    options?: StreamJoinOptions,
  ): Stream<NonNullable<K>, R>;
  join(other: unknown, joiner: unknown, third?: unknown, fourth?: StreamJoinOptions): Stream<NonNullable<K>, unknown> {
    if (other instanceof StreamImpl) return this.#streamJoin('inner', other, joiner, third, fourth);
    return this.#join(other, joiner, false, third as NamedOptions | undefined);
  }

  leftJoin<VT, R>(
    table: Table<NonNullable<K>, VT>,
    joiner: (value: V, tableValue: VT | null, key: K) => R,
    options?: NamedOptions,
  ): Stream<K, R>;
  leftJoin<VO, R>(
    other: Stream<NonNullable<K> | null, VO>,
    joiner: (value: V, otherValue: VO | null, key: K) => R,
    windows: JoinWindows,
    options?: StreamJoinOptions,
  ): Stream<K, R>;
  leftJoin(other: unknown, joiner: unknown, third?: unknown, fourth?: StreamJoinOptions): Stream<K, unknown> {
    if (other instanceof StreamImpl) return this.#streamJoin('left', other, joiner, third, fourth);
    return this.#join(other, joiner, true, third as NamedOptions | undefined);
  }

  outerJoin<VO, R>(
    other: Stream<NonNullable<K> | null, VO>,
    joiner: (value: V | null, otherValue: VO | null, key: K) => R,
    windows: JoinWindows,
    options?: StreamJoinOptions,
  ): Stream<K, R> {
    return this.#streamJoin('outer', other, joiner, windows, options);
  }

  #streamJoin<K2, R>(
    join: StreamJoinNode['join'],
    other: unknown,
    joiner: unknown,
    windows: unknown,
    options: StreamJoinOptions | undefined,
  ): Stream<K2, R> {
    const where = this.#where(join === 'inner' ? 'join' : `${join}Join`);
    if (!(other instanceof StreamImpl) || other.#builder !== this.#builder) {
      throw invalid(`${where}: expected a stream of topology "${this.#builder.appId}"; got ${show(other)}`);
    }
    checkFunction(joiner, where, 'the joiner');
    const w = windows as Partial<JoinWindows> | null | undefined;
    if (typeof w !== 'object' || w === null || w.kind !== 'join') {
      throw invalid(`${where}: expected join windows, like joinWindows(60_000); got ${show(windows)}`);
    }
    for (const stream of [this, other]) {
      if (stream.#rekeyed) {
        throw invalid(
          `${where}: the stream from ${stream.#node} was re-keyed (map/flatMap), so its records are not in their key's partition; ` +
            `write it to a topic with .to() and read that topic to join`,
        );
      }
    }
    const named = nameOption(options, where) !== undefined;
    const late = options?.late ?? 'drop';
    if (late !== 'drop' && late !== 'dead-letter') throw invalid(`${where}: late must be 'drop' or 'dead-letter', got ${show(late)}`);
    const serdes = {
      key: this.#serdes.key ?? other.#serdes.key ?? builtin.auto,
      left: this.#serdes.value ?? builtin.json(),
      right: other.#serdes.value ?? builtin.json(),
    };
    const name = this.#builder.append('streamJoin', where, options, (name): GraphNode[] => {
      const stores = { left: `${name}-left`, right: `${name}-right`, unmatched: join === 'inner' ? undefined : `${name}-unmatched` };
      const side = (side: 'left' | 'right', parent: string): StreamJoinNode => ({
        kind: 'streamJoin',
        name: stores[side],
        parents: [parent],
        side,
        join,
        windows: { before: w.beforeMs!, after: w.afterMs!, grace: w.graceMs! },
        late,
        store: stores[side],
        named,
        stores,
        joiner: joiner as StreamJoinNode['joiner'],
        serdes,
        ...(options?.errors === undefined ? {} : { errors: options.errors }),
      });
      return [side('left', this.#node), side('right', other.#node), { kind: 'merge', name, parents: [stores.left, stores.right] }];
    });
    return new StreamImpl(this.#builder, name, { key: this.#serdes.key });
  }

  #join<K2, R>(table: unknown, joiner: unknown, left: boolean, options: NamedOptions | undefined): Stream<K2, R> {
    const where = this.#where(left ? 'leftJoin' : 'join');
    if (!(table instanceof TableImpl) || table.builder !== this.#builder) {
      throw invalid(`${where}: expected a table of topology "${this.#builder.appId}"; got ${show(table)}`);
    }
    checkFunction(joiner, where, 'the joiner');
    if (this.#rekeyed) {
      throw invalid(
        `${where}: the stream was re-keyed (map/flatMap), so its records are not in their key's partition; ` +
          `write it to a topic with .to() and read that topic to join`,
      );
    }
    const name = this.#builder.append('join', where, options, (name) => [
      { kind: 'join', name, parents: [this.#node], table: table.store, left, joiner: joiner as JoinNode['joiner'] },
    ]);
    return new StreamImpl(this.#builder, name, this.#sameKeys());
  }

  to(
    topic: string,
    serdes?: SinkSerdes<NonNullable<K>, NonNullable<V>>,
    options?: NamedOptions,
  ): Topology {
    const where = `to(${show(topic)}) after ${this.#node}`;
    checkTopic(topic, where);
    if (serdes !== undefined) checkObject(serdes, where, 'serdes');
    const resolved = {
      key: this.#resolve(serdes?.key, this.#serdes.key, where, 'serdes.key'),
      value: this.#resolve(serdes?.value, this.#serdes.value, where, 'serdes.value'),
    };
    const windowedKey = this.#serdes.windowedKey;
    this.#builder.append('sink', where, options, (name) => [
      { kind: 'sink', name, parents: [this.#node], topic, serdes: resolved, ...(windowedKey === undefined ? {} : { windowedKey }) },
    ]);
    return this.#builder.topology;
  }

  sink(sink: ExternalSink<K, V>, options?: ExternalSinkOptions): Topology {
    const where = this.#where('sink');
    checkObject(sink, where, 'the sink');
    checkFunction(sink.write, where, 'sink.write');
    const breaker = breakerSettings(options?.breaker);
    this.#builder.append('externalSink', where, options, (name) => [
      { kind: 'externalSink', name, parents: [this.#node], sink: sink as ExternalSink<unknown, unknown>, breaker },
    ]);
    return this.#builder.topology;
  }

  #resolve(given: unknown, inherited: Serde<unknown> | undefined, where: string, what: string) {
    if (given !== undefined) return checkSerde(given, where, what);
    return inherited ?? builtin.auto;
  }

  /**
   * Appends a one-function node after this stream and returns the stream of its output. The
   * function is stored as given (no wrapper), so the runtime calls the user's code directly.
   */
  #fn<K2, V2>(
    kind: OneFunctionNode['kind'],
    fn: unknown,
    options: NamedOptions | undefined,
    serdes: InheritedSerdes,
    rekeys = false,
  ): Stream<K2, V2> {
    const where = this.#where(kind);
    checkFunction(fn, where);
    const name = this.#builder.append(kind, where, options, (name) => [
      // The DSL's generics already matched fn to its kind; the graph stores it type-erased.
      { kind, name, parents: [this.#node], fn } as OneFunctionNode,
    ]);
    return new StreamImpl(this.#builder, name, serdes, rekeys || this.#rekeyed);
  }

  #where(operator: string): string {
    return `${operator}() after ${this.#node}`;
  }

  /** What an operator that keeps the keys (and changes the values) passes on. */
  #sameKeys(): InheritedSerdes {
    return { key: this.#serdes.key, windowedKey: this.#serdes.windowedKey };
  }
}

