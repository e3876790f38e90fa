import type { GraphNode, TopologyGraph } from './nodes.ts';

/**
 * The graph as it runs under another application id (`--app-id`): its internal topics carry
 * the id they run under, so two deployments of one topology never share a repartition topic.
 */
export function underAppId(graph: TopologyGraph, appId: string): TopologyGraph {
  if (appId === graph.appId) return graph;
  const from = `${graph.appId}-`;
  const rename = (node: GraphNode): GraphNode =>
    (node.kind === 'source' || node.kind === 'sink') && node.internal === true && node.topic.startsWith(from)
      ? { ...node, topic: `${appId}-${node.topic.slice(from.length)}` }
      : node;
  return { appId, nodes: graph.nodes.map(rename) };
}
