import type { GraphNode, TopologyGraph } from './nodes.ts';

/**
 * A part of the graph that shares no node with any other: records never cross between
 * sub-topologies except through a topic. The runtime runs one task per (sub-topology,
 * partition).
 */
export interface Subtopology {
  /** 0, 1, ... in the order of each sub-topology's first source. */
  readonly id: number;
  /** In build order. */
  readonly sourceTopics: readonly string[];
  /** In build order, without repeats. */
  readonly sinkTopics: readonly string[];
  /** In build order: every node comes after its parents. */
  readonly nodes: readonly GraphNode[];
}

/**
 * Splits the graph into its connected components (nodes linked through `parents`).
 *
 * @example
 * for (const sub of subtopologies(graph)) console.log(sub.id, sub.sourceTopics);
 */
export function subtopologies(graph: TopologyGraph): Subtopology[] {
  const root = unionFind(graph.nodes);
  const groups = new Map<string, GraphNode[]>();
  // The first node of a component in build order has no parent in it, so it is a source:
  // grouping in build order numbers components by their first source.
  for (const node of graph.nodes) {
    const key = root(node.name);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [node]);
    else group.push(node);
  }
  return [...groups.values()].map((nodes, id) => ({
    id,
    sourceTopics: unique(nodes, 'source'),
    sinkTopics: unique(nodes, 'sink'),
    nodes,
  }));
}

function unionFind(nodes: readonly GraphNode[]): (name: string) => string {
  const up = new Map<string, string>();
  const root = (name: string): string => {
    let at = name;
    for (let next = up.get(at); next !== undefined && next !== at; next = up.get(at)) at = next;
    up.set(name, at);
    return at;
  };
  for (const node of nodes) {
    up.set(node.name, node.name);
    for (const parent of node.parents) up.set(root(parent), root(node.name));
  }
  // A join reads the store of a table: both must run in the same task.
  for (const node of nodes) {
    if (node.kind === 'join') up.set(root(node.table), root(node.name));
  }
  return root;
}

function unique(nodes: readonly GraphNode[], kind: 'source' | 'sink'): string[] {
  const topics = new Set<string>();
  for (const node of nodes) if (node.kind === kind) topics.add(node.topic);
  return [...topics];
}
