import { describeGraph, type TopologyDescription } from '../graph/describe.ts';
import type { GraphNode, TopologyGraph } from '../graph/nodes.ts';
import type { Serde, Serdes } from '../serde/serde.ts';
import { subtopologies } from '../graph/subtopologies.ts';
import { checkObject, checkSerde, nameOption } from './arguments.ts';
import { GraphBuilder } from './builder.ts';
import { checkAppId, checkTopic, invalid, show } from './naming.ts';
import type { NamedOptions } from './options.ts';
import { StreamImpl, type Stream } from './stream.ts';
import { TableImpl, type Table } from './table.ts';

/**
 * A stream-processing application: the topics it reads and what it does with their records.
 * Building it runs nothing; hand it to the runtime (or export it as a module's default for the
 * CLI).
 *
 * @example
 * const app = topology('uppercase');
 * app.stream('input', { key: serdes.string, value: serdes.string })
 *   .mapValues((v) => v.toUpperCase())
 *   .to('output');
 * export default app;
 */
export interface Topology {
  /** The consumer group id and the prefix of internal topic names. */
  readonly appId: string;

  /**
   * Reads a topic. Keys are `K | null` because Kafka records may have none; the runtime passes
   * null keys on without calling the key serde, and skips records whose value is null
   * (tombstones). Each topic can be read by one source per topology.
   *
   * @example
   * const orders = app.stream('orders', { key: serdes.string, value: serdes.json<Order>() });
   */
  stream<K, V>(topic: string, serdes: Serdes<K, V>, options?: NamedOptions): Stream<K | null, V>;

  /**
   * Reads a topic as a table: the latest value per key, kept in a state store named
   * `options.name` (a record without a value deletes its key). The topic itself is the store's
   * changelog. Join a co-partitioned stream with it to enrich its records.
   *
   * @example
   * const users = app.table('users', { key: serdes.string, value: serdes.json<User>() }, { name: 'users' });
   * clicks.join(users, (click, user) => ({ ...click, country: user.country })).to('enriched-clicks');
   */
  table<K, V>(topic: string, serdes: Serdes<K, V>, options?: NamedOptions): Table<K, V>;

  /**
   * The graph built so far, as JSON-serialisable data whose `toString()` reads like Kafka
   * Streams' topology description. Does not validate the topology.
   *
   * @example
   * console.log(String(app.describe()));
   */
  describe(): TopologyDescription;
}

/**
 * Marks topologies across copies of this library: the CLI may load a user module that resolved
 * another copy, so `instanceof` would fail. The branded method returns the graph.
 */
const brand: unique symbol = Symbol.for('streamrun.topology');

interface Branded {
  [brand](): TopologyGraph;
}

/**
 * Starts a topology. `appId` becomes the consumer group id and the prefix of internal topic
 * names: 1-249 letters, digits, '.', '_' or '-'.
 *
 * @example
 * export default topology('uppercase')
 *   .stream('input', { key: serdes.string, value: serdes.string })
 *   .mapValues((v) => v.toUpperCase())
 *   .to('output');
 */
export function topology(appId: string): Topology {
  return new TopologyImpl(checkAppId(appId));
}

/**
 * Whether `x` is a topology, from this or any other copy of streamrun.
 *
 * @example
 * const mod = await import(file);
 * if (!isTopology(mod.default)) throw new Error(`${file} has no default-exported topology`);
 */
export function isTopology(x: unknown): x is Topology {
  return (
    typeof x === 'object' && x !== null && typeof (x as Partial<Branded>)[brand] === 'function'
  );
}

/**
 * The graph the runtime compiles, frozen; streams added later do not change it. Internal: not
 * exported from the package. Throws `INVALID_TOPOLOGY` if the topology reads no topic, or if a
 * sub-topology neither writes to a topic nor peeks, since its records would be read and
 * dropped (a forgotten `.to()`). A stream that ends without a sink is fine as long as its
 * sub-topology has a sink or a peek somewhere.
 */
export function graphOf(topology: Topology): TopologyGraph {
  if (!isTopology(topology)) {
    throw invalid(`expected a topology made by topology(appId); got ${show(topology)}`);
  }
  const graph = (topology as unknown as Branded)[brand]();
  if (!graph.nodes.some((node) => node.kind === 'source')) {
    throw invalid(
      `topology "${graph.appId}" has no source; read a topic with .stream(topic, serdes)`,
    );
  }
  for (const sub of subtopologies(graph)) {
    // A store counts as an end: it can be queried.
    const ends = ['sink', 'externalSink', 'peek', 'aggregate', 'windowedAggregate', 'sessionAggregate', 'slidingAggregate', 'tableJoin', 'materialize'];
    if (!sub.nodes.some((node) => ends.includes(node.kind))) {
      const topics = sub.sourceTopics.map((t) => `"${t}"`).join(', ');
      throw invalid(
        `topology "${graph.appId}": the records of ${topics} go nowhere (sub-topology ` +
          `${sub.id} has no sink and no peek); end the stream with .to(topic), .sink(sink) or .peek(fn)`,
      );
    }
  }
  return graph;
}

function checkSerdes<K, V>(serdes: Serdes<K, V>, where: string): { key: Serde<unknown>; value: Serde<unknown> } {
  checkObject(serdes, where, 'serdes ({ key, value })');
  return { key: checkSerde(serdes.key, where, 'serdes.key'), value: checkSerde(serdes.value, where, 'serdes.value') };
}

class TopologyImpl implements Topology, Branded {
  readonly appId: string;
  readonly #builder: GraphBuilder;

  constructor(appId: string) {
    this.appId = appId;
    this.#builder = new GraphBuilder(appId, this);
  }

  stream<K, V>(topic: string, serdes: Serdes<K, V>, options?: NamedOptions): Stream<K | null, V> {
    const where = `stream(${show(topic)})`;
    checkTopic(topic, where);
    const resolved = checkSerdes(serdes, where);
    const name = this.#builder.append('source', where, options, (name) => [
      { kind: 'source', name, parents: [], topic, serdes: resolved },
    ]);
    return new StreamImpl(this.#builder, name, resolved);
  }

  table<K, V>(topic: string, serdes: Serdes<K, V>, options?: NamedOptions): Table<K, V> {
    const where = `table(${show(topic)})`;
    checkTopic(topic, where);
    const resolved = checkSerdes(serdes, where);
    const named = nameOption(options, where) !== undefined;
    const name = this.#builder.append('materialize', where, options, (name): GraphNode[] => [
      { kind: 'source', name: `${name}-source`, parents: [], topic, serdes: resolved, tombstones: true },
      { kind: 'materialize', name, parents: [`${name}-source`], store: name, named, topic, serdes: resolved },
    ]);
    // The source passes deletes on too: a table–table join takes every change.
    return new TableImpl<K, V>(this.#builder, name, resolved, { changes: `${name}-source`, store: name });
  }

  describe(): TopologyDescription {
    return describeGraph(this.#builder.snapshot());
  }

  [brand](): TopologyGraph {
    return this.#builder.snapshot();
  }
}
