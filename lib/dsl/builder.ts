import type { GraphNode, NodeKind, TopologyGraph } from '../graph/nodes.ts';
import { nameOption } from './arguments.ts';
import { generatedName, invalid } from './naming.ts';
import type { NamedOptions } from './options.ts';
import type { Topology } from './topology.ts';

/**
 * The node list one topology and all its streams append to. Only the DSL sees it; the runtime
 * gets a frozen snapshot through `graphOf`.
 */
export class GraphBuilder {
  readonly appId: string;
  /** What `stream.to()` returns, so a chain can end in an exported topology. */
  readonly topology: Topology;
  readonly #nodes: GraphNode[] = [];
  readonly #names = new Set<string>();
  /** topic → the source node reading it */
  readonly #sources = new Map<string, string>();
  #index = 0;

  constructor(appId: string, topology: Topology) {
    this.appId = appId;
    this.topology = topology;
  }

  /**
   * Appends the nodes of one operator call: all of them or, if a name is taken, none. The
   * first node is the operator's own and gets the user's name or `<kind>-<n>`; `build` may
   * derive more nodes from that name (branch outputs). Every call uses up a number, named or
   * not, so naming one node never renames another.
   */
  append(
    kind: NodeKind,
    where: string,
    options: NamedOptions | undefined,
    build: (name: string) => readonly GraphNode[],
  ): string {
    const name = nameOption(options, where) ?? generatedName(kind, this.#index);
    const built = build(name);
    // The operator's own node (the one with its name) carries its error policy.
    const nodes = options?.errors === undefined ? built : built.map((n) => (n.name === name ? { ...n, errors: options.errors } : n));
    const fresh = new Set<string>();
    for (const node of nodes) {
      if (this.#names.has(node.name) || fresh.has(node.name)) {
        throw invalid(
          `${where}: node name "${node.name}" is already used in topology "${this.appId}"; ` +
            `node names must be unique, so pass this operator a different { name }`,
          node.name,
        );
      }
      fresh.add(node.name);
    }
    for (const node of nodes) {
      if (node.kind !== 'source') continue;
      const owner = this.#sources.get(node.topic);
      if (owner !== undefined) {
        throw invalid(
          `${where}: topic "${node.topic}" is already read by ${owner}; a topic can have ` +
            `one source per topology, so reuse that stream (branch or peek it as needed)`,
          node.name,
        );
      }
    }
    this.#index++;
    for (const node of nodes) {
      this.#names.add(node.name);
      if (node.kind === 'source') this.#sources.set(node.topic, node.name);
      this.#nodes.push(deepFreeze(node));
    }
    return name;
  }

  /** A frozen copy: streams built later do not change it. */
  snapshot(): TopologyGraph {
    return Object.freeze({ appId: this.appId, nodes: Object.freeze([...this.#nodes]) });
  }
}

/** Freezes the node and its arrays, not the user's serdes and functions. */
function deepFreeze<N extends GraphNode>(node: N): N {
  Object.freeze(node.parents);
  if (node.kind === 'branch') {
    for (const p of node.predicates) Object.freeze(p);
    Object.freeze(node.predicates);
  }
  if (node.kind === 'source' || node.kind === 'sink') Object.freeze(node.serdes);
  return Object.freeze(node);
}
