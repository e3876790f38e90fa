import type { GraphNode, JoinedTable, TableJoinNode } from '../graph/nodes.ts';
import { serdes as builtin } from '../serde/builtin.ts';
import { checkFunction, checkObject, checkSerde, nameOption } from './arguments.ts';
import type { GraphBuilder } from './builder.ts';
import type { StoreOptions } from './grouped-stream.ts';
import { invalid, show } from './naming.ts';
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

  /**
   * Joins two tables of the same keys into a table, as Kafka Streams' KTable–KTable join:
   * whenever either side changes, the key's row is `joiner(value, otherValue, key)` while both
   * sides have one, and deleted (a null value downstream) when a side's delete ends the match.
   * A result carries the later of the two sides' last change times. The joined table is kept
   * in a store named `options.name` (queryable, and a table to join streams with); its
   * `toStream()` passes deletes on as null values. The tables must be co-partitioned.
   *
   * @example
   * const profiles = users.join(addresses, (user, address) => ({ ...user, address }), { name: 'profiles' });
   * profiles.toStream().to('profiles', { value: serdes.json() });
   */
  join<VO, R>(other: Table<K, VO>, joiner: (value: V, otherValue: VO, key: K) => R, options?: StoreOptions<R>): Table<K, R>;

  /**
   * Like `join`, but every row of this table has a joined row, with `otherValue` null while the
   * other table has none for its key.
   *
   * @example
   * users.leftJoin(addresses, (user, address) => ({ ...user, address: address ?? undefined }), { name: 'profiles' });
   */
  leftJoin<VO, R>(other: Table<K, VO>, joiner: (value: V, otherValue: VO | null, key: K) => R, options?: StoreOptions<R>): Table<K, R>;

  /**
   * Like `join`, both ways: a key with a row in either table has a joined row, the missing side
   * null.
   *
   * @example
   * stock.outerJoin(prices, (count, price) => ({ count: count ?? 0, price }), { name: 'catalogue' });
   */
  outerJoin<VO, R>(
    other: Table<K, VO>,
    joiner: (value: V | null, otherValue: VO | null, key: K) => R,
    options?: StoreOptions<R>,
  ): Table<K, R>;
}

const storeOf = ({ store }: JoinedTable): JoinedTable => ({ store });

/** Internal: a table is a handle on the node that keeps it. */
export class TableImpl<K, V> implements Table<K, V> {
  readonly store: string;
  /** The topology it belongs to: a join may only use a table of its own topology. */
  readonly builder: GraphBuilder;
  readonly #serdes: InheritedSerdes;
  /** How a table–table join reads it: the node passing every change on (deletes as null), and its store. */
  readonly #joined: JoinedTable & { readonly changes: string };

  constructor(builder: GraphBuilder, store: string, serdes: InheritedSerdes, joined: JoinedTable & { readonly changes: string }) {
    this.builder = builder;
    this.store = store;
    this.#serdes = serdes;
    this.#joined = joined;
  }

  toStream(): Stream<K, V> {
    return new StreamImpl<K, V>(this.builder, this.store, this.#serdes);
  }

  join<VO, R>(other: Table<K, VO>, joiner: (value: V, otherValue: VO, key: K) => R, options?: StoreOptions<R>): Table<K, R> {
    return this.#join('inner', other, joiner, options);
  }

  leftJoin<VO, R>(other: Table<K, VO>, joiner: (value: V, otherValue: VO | null, key: K) => R, options?: StoreOptions<R>): Table<K, R> {
    return this.#join('left', other, joiner, options);
  }

  outerJoin<VO, R>(
    other: Table<K, VO>,
    joiner: (value: V | null, otherValue: VO | null, key: K) => R,
    options?: StoreOptions<R>,
  ): Table<K, R> {
    return this.#join('outer', other, joiner, options);
  }

  #join<R>(join: TableJoinNode['join'], other: unknown, joiner: unknown, options: StoreOptions<R> | undefined): Table<K, R> {
    const where = `${join === 'inner' ? 'join' : `${join}Join`}() of table ${this.store}`;
    if (!(other instanceof TableImpl) || other.builder !== this.builder) {
      throw invalid(`${where}: expected a table of topology "${this.builder.appId}"; got ${show(other)}`);
    }
    checkFunction(joiner, where, 'the joiner');
    if (options !== undefined) checkObject(options, where, 'options');
    const named = nameOption(options, where) !== undefined;
    const serdes = {
      key: this.#serdes.key ?? builtin.auto,
      value: options?.value === undefined ? builtin.json() : checkSerde(options.value, where, 'options.value'),
    };
    const tables = { left: this.#joined, right: (other as TableImpl<K, unknown>).#joined };
    const name = this.builder.append('tableJoin', where, options, (name): GraphNode[] => {
      const side = (side: 'left' | 'right'): TableJoinNode => ({
        kind: 'tableJoin',
        name: `${name}-${side}`,
        parents: [tables[side].changes],
        side,
        join,
        store: name,
        named,
        times: `${name}-times`,
        tables: { left: storeOf(tables.left), right: storeOf(tables.right) },
        joiner: joiner as TableJoinNode['joiner'],
        serdes,
      });
      return [side('left'), side('right'), { kind: 'merge', name, parents: [`${name}-left`, `${name}-right`] }];
    });
    return new TableImpl<K, R>(this.builder, name, serdes, { changes: name, store: name });
  }
}
