import type { GraphNode } from '../graph/nodes.ts';
import type { StoreSpec } from './task-stores.ts';

/** The compacted topic every write of a store also goes to, one partition per task. */
export function changelogTopic(appId: string, store: string): string {
  return `${appId}-${store}-changelog`;
}

export const changelogConfig: Readonly<Record<string, string>> = Object.freeze({ 'cleanup.policy': 'compact' });

/** The stores the nodes of one sub-topology keep. */
export function storeSpecs(appId: string, nodes: readonly GraphNode[]): StoreSpec[] {
  return nodes.flatMap((node) =>
    node.kind === 'aggregate' ? [{ store: node.store, changelog: changelogTopic(appId, node.store), serdes: node.serdes }] : [],
  );
}
