import { resolveErrorPolicy, type ResolvedErrorPolicy } from '../errors/policy.ts';
import { deadLettersLate, type GraphNode } from '../graph/nodes.ts';

/**
 * The error policy each node runs under: its own, with what it leaves out taken from the
 * runner's, or else the runner's. The runner and the test driver settle failures by it.
 */
export class NodePolicies {
  readonly #base: ResolvedErrorPolicy;
  readonly #own = new Map<string, ResolvedErrorPolicy>();
  /** The nodes whose late records are dead-lettered. */
  readonly #late: readonly string[];

  constructor(nodes: readonly GraphNode[], appId: string, base: ResolvedErrorPolicy) {
    this.#base = base;
    for (const node of nodes) if (node.errors) this.#own.set(node.name, resolveErrorPolicy(node.errors, appId, base));
    this.#late = nodes.filter(deadLettersLate).map((n) => n.name);
  }

  /** The policy of `node` (the runner's when the node has none, or when no node is known). */
  of(node: string | undefined): ResolvedErrorPolicy {
    return (node === undefined ? undefined : this.#own.get(node)) ?? this.#base;
  }

  /** Every topic a dead letter may go to: of the policies that dead-letter, and where late records go. */
  deadLetterTopics(): string[] {
    const policies = [this.#base, ...this.#own.values()];
    const topics = [...policies.flatMap((p) => (p.onExhausted === 'dlq' ? [p.deadLetterTopic] : [])), ...this.#late.map((n) => this.of(n).deadLetterTopic)];
    return [...new Set(topics)];
  }
}
