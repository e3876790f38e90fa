import type { GraphNode, TopologyGraph } from './nodes.ts';

const none: readonly GraphNode[] = Object.freeze([]);

/**
 * Returns a lookup of each node's children, in build order (none for a leaf). Nodes store only
 * their parents, so appending never edits an existing node; describe and the runtime compiler
 * walk downwards, so they index the edges once, at build time.
 *
 * @example
 * const children = childrenOf(graph);
 * for (const child of children(source)) console.log(child.name);
 */
export function childrenOf(graph: TopologyGraph): (node: GraphNode) => readonly GraphNode[] {
  const children = new Map<string, GraphNode[]>();
  for (const node of graph.nodes) {
    children.set(node.name, []);
    for (const parent of node.parents) children.get(parent)?.push(node);
  }
  return (node) => children.get(node.name) ?? none;
}
