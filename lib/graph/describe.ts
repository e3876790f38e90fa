import { childrenOf } from './edges.ts';
import type { GraphNode, NodeKind, TopologyGraph } from './nodes.ts';
import { subtopologies } from './subtopologies.ts';

/**
 * What `topology.describe()` returns: plain, JSON-serialisable data about the graph, plus a
 * `toString()` in the style of Kafka Streams' `TopologyDescription`.
 *
 * @example
 * console.log(String(app.describe()));
 * // Topology: uppercase
 * //   Sub-topology: 0
 * //     Source: source-0 (topic: input, key: string, value: string)
 * //       --> mapValues-1
 * //     ...
 * fs.writeFileSync('topology.json', JSON.stringify(app.describe(), null, 2));
 */
export interface TopologyDescription {
  readonly appId: string;
  readonly subtopologies: readonly SubtopologyDescription[];
  /** Every topic the topology reads and writes, in build order, without repeats. */
  readonly topics: { readonly sources: readonly string[]; readonly sinks: readonly string[] };
  /** The readable text form; see the example above. */
  toString(): string;
}

export interface SubtopologyDescription {
  readonly id: number;
  readonly sourceTopics: readonly string[];
  readonly sinkTopics: readonly string[];
  /** In build order. */
  readonly nodes: readonly NodeDescription[];
}

export interface NodeDescription {
  readonly name: string;
  readonly kind: NodeKind;
  /** Sources and sinks only. */
  readonly topic?: string;
  /** Sources, sinks and aggregates: the serdes' names. */
  readonly serdes?: { readonly key: string; readonly value: string };
  /**
   * Sinks of a windowed aggregation's windows only: the serde of the key inside a window, whose
   * bytes choose the partition (so all windows of a key share one).
   */
  readonly windowedKey?: string;
  /** Branch nodes only: the branch names, in the order predicates are tried. */
  readonly branches?: readonly string[];
  /** Aggregates only: the state store they keep. */
  readonly store?: string;
  /** Windowed aggregates only. */
  readonly windows?: { readonly size: number; readonly advance: number; readonly grace: number; readonly emit: 'update' | 'final' };
  /** Session aggregates only: a session closes once stream time passes its end + gap + grace. */
  readonly session?: { readonly gap: number; readonly grace: number; readonly emit: 'update' | 'final' };
  /** Windowed and session aggregates: what happens to late records. */
  readonly late?: 'drop' | 'dead-letter';
  /** Sliding-window aggregates only. */
  readonly sliding?: { readonly timeDifference: number; readonly grace: number; readonly emit: 'update' | 'final' };
  /** The sides of a stream–stream join: which side, the join, its windows and the stores of the other side and the unmatched records. */
  readonly streamJoin?: {
    readonly side: 'left' | 'right';
    readonly join: 'inner' | 'left' | 'outer';
    readonly before: number;
    readonly after: number;
    readonly grace: number;
    readonly other: string;
    readonly unmatched?: string;
  };
  /** The sides of a table–table join: which side, the join, the two tables' stores and the store of change times. */
  readonly tableJoin?: {
    readonly side: 'left' | 'right';
    readonly join: 'inner' | 'left' | 'outer';
    readonly tables: { readonly left: string; readonly right: string };
    readonly times: string;
  };
  /** External sinks only: what the sink calls itself. */
  readonly external?: string;
  /** Branch outputs only: which branch this output carries. */
  readonly branch?: string;
  readonly parents: readonly string[];
  readonly children: readonly string[];
}

/** Builds the description of a graph; the graph is not validated. */
export function describeGraph(graph: TopologyGraph): TopologyDescription {
  return new TopologyDescriptionImpl(graph);
}

class TopologyDescriptionImpl implements TopologyDescription {
  readonly appId: string;
  readonly subtopologies: readonly SubtopologyDescription[];
  readonly topics: { readonly sources: readonly string[]; readonly sinks: readonly string[] };

  constructor(graph: TopologyGraph) {
    const children = childrenOf(graph);
    const subs = subtopologies(graph);
    this.appId = graph.appId;
    this.subtopologies = subs.map((sub) => ({
      id: sub.id,
      sourceTopics: sub.sourceTopics,
      sinkTopics: sub.sinkTopics,
      nodes: sub.nodes.map((node) => describeNode(node, children(node))),
    }));
    this.topics = {
      sources: [...new Set(subs.flatMap((sub) => sub.sourceTopics))],
      sinks: [...new Set(subs.flatMap((sub) => sub.sinkTopics))],
    };
    Object.freeze(this);
  }

  toString(): string {
    const lines = [`Topology: ${this.appId}`];
    for (const sub of this.subtopologies) {
      lines.push(`  Sub-topology: ${sub.id}`);
      for (const node of sub.nodes) lines.push(...nodeLines(node));
    }
    return lines.join('\n');
  }
}

function describeNode(node: GraphNode, children: readonly GraphNode[]): NodeDescription {
  const edges = { parents: [...node.parents], children: children.map((child) => child.name) };
  switch (node.kind) {
    case 'source':
    case 'sink':
      return {
        name: node.name,
        kind: node.kind,
        topic: node.topic,
        serdes: { key: node.serdes.key.name, value: node.serdes.value.name },
        ...(node.kind === 'sink' && node.windowedKey !== undefined ? { windowedKey: node.windowedKey.name } : {}),
        ...edges,
      };
    case 'branch':
      return {
        name: node.name,
        kind: node.kind,
        branches: node.predicates.map((p) => p.branch),
        ...edges,
      };
    case 'branchOutput':
      return { name: node.name, kind: node.kind, branch: node.branch, ...edges };
    case 'externalSink':
      return { name: node.name, kind: node.kind, external: node.sink.name, ...edges };
    case 'materialize':
      return { name: node.name, kind: node.kind, store: node.store, topic: node.topic, ...edges };
    case 'sessionAggregate':
      return {
        name: node.name,
        kind: node.kind,
        store: node.store,
        session: { gap: node.gap, grace: node.grace, emit: node.emit },
        late: node.late ?? 'drop',
        serdes: { key: node.serdes.key.name, value: node.serdes.value.name },
        ...edges,
      };
    case 'slidingAggregate': {
      const { timeDifference, grace, emit } = node;
      return {
        name: node.name,
        kind: node.kind,
        store: node.store,
        sliding: { timeDifference, grace, emit },
        late: node.late ?? 'drop',
        serdes: { key: node.serdes.key.name, value: node.serdes.value.name },
        ...edges,
      };
    }
    case 'join':
      return { name: node.name, kind: node.kind, store: node.table, ...edges };
    case 'tableJoin': {
      const { side, join, tables, times } = node;
      const joined = { side, join, tables: { left: tables.left.store, right: tables.right.store }, times };
      return { name: node.name, kind: node.kind, store: node.store, tableJoin: joined, ...edges };
    }
    case 'streamJoin': {
      const { side, join, windows, stores } = node;
      const other = side === 'left' ? stores.right : stores.left;
      const unmatched = stores.unmatched === undefined ? {} : { unmatched: stores.unmatched };
      return { name: node.name, kind: node.kind, store: node.store, streamJoin: { side, join, ...windows, other, ...unmatched }, ...edges };
    }
    case 'aggregate':
    case 'windowedAggregate':
      return {
        name: node.name,
        kind: node.kind,
        store: node.store,
        ...(node.kind === 'windowedAggregate' ? { windows: { ...node.windows, emit: node.emit }, late: node.late ?? 'drop' } : {}),
        serdes: { key: node.serdes.key.name, value: node.serdes.value.name },
        ...edges,
      };
    default:
      return { name: node.name, kind: node.kind, ...edges };
  }
}

function nodeLines(node: NodeDescription): string[] {
  const lines = [`    ${headline(node)}`];
  // Kafka Streams prints "--> none" too: it makes a dangling stream visible.
  if (node.kind !== 'sink' && node.kind !== 'externalSink') lines.push(`      --> ${list(node.children)}`);
  if (node.kind !== 'source') lines.push(`      <-- ${list(node.parents)}`);
  return lines;
}

function headline(node: NodeDescription): string {
  const io = `topic: ${node.topic}, key: ${node.serdes?.key}, value: ${node.serdes?.value}`;
  switch (node.kind) {
    case 'source':
      return `Source: ${node.name} (${io})`;
    case 'sink':
      return `Sink: ${node.name} (${io}${node.windowedKey === undefined ? '' : `, partitioned by window key: ${node.windowedKey}`})`;
    case 'externalSink':
      return `Sink: ${node.name} (external: ${node.external})`;
    case 'branch':
      return `Processor: ${node.name} (branch: ${list(node.branches ?? [])})`;
    case 'branchOutput':
      return `Processor: ${node.name} (branchOutput: ${node.branch})`;
    case 'aggregate':
      return `Processor: ${node.name} (aggregate, store: ${node.store}, key: ${node.serdes?.key}, value: ${node.serdes?.value})`;
    case 'sessionAggregate': {
      const s = node.session!;
      return `Processor: ${node.name} (sessionAggregate, store: ${node.store}, gap ${s.gap} ms, grace ${s.grace} ms: closes at end + ${s.gap + s.grace} ms, emit ${s.emit}${lateNote(node)})`;
    }
    case 'slidingAggregate': {
      const w = node.sliding!;
      return `Processor: ${node.name} (slidingAggregate, store: ${node.store}, time difference ${w.timeDifference} ms, grace ${w.grace} ms, emit ${w.emit}${lateNote(node)})`;
    }
    case 'materialize':
      return `Processor: ${node.name} (table, store: ${node.store}, changelog: its source topic ${node.topic})`;
    case 'join':
      return `Processor: ${node.name} (join, store: ${node.store})`;
    case 'tableJoin': {
      const j = node.tableJoin!;
      return `Processor: ${node.name} (${j.join} join of tables ${j.tables.left} and ${j.tables.right}, ${j.side} side, store: ${node.store}, change times: ${j.times})`;
    }
    case 'streamJoin': {
      const j = node.streamJoin!;
      const unmatched = j.unmatched === undefined ? '' : `, unmatched: ${j.unmatched}`;
      return (
        `Processor: ${node.name} (${j.join} join, ${j.side} side, store: ${node.store}, joins: ${j.other}${unmatched}, ` +
        `right records ${j.before} ms before to ${j.after} ms after a left one, grace ${j.grace} ms)`
      );
    }
    case 'windowedAggregate': {
      const w = node.windows!;
      const windows = w.advance === w.size ? `tumbling ${w.size} ms` : `hopping ${w.size} ms every ${w.advance} ms`;
      return `Processor: ${node.name} (windowedAggregate, store: ${node.store}, ${windows}, grace ${w.grace} ms, emit ${w.emit}${lateNote(node)})`;
    }
    default:
      return `Processor: ${node.name} (${node.kind})`;
  }
}

function lateNote(node: NodeDescription): string {
  return node.late === 'dead-letter' ? ', late records to the dead-letter topic' : '';
}

function list(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}
