import type { GraphNode } from '../graph/nodes.ts';
import type { StoreSpec } from './task-stores.ts';
import { windowKeySerde } from './window-store.ts';

/** The compacted topic every write of a store also goes to, one partition per task. */
export function changelogTopic(appId: string, store: string): string {
  return `${appId}-${store}-changelog`;
}

export const changelogConfig: Readonly<Record<string, string>> = Object.freeze({ 'cleanup.policy': 'compact' });

/** The stores the nodes of one sub-topology keep. */
export function storeSpecs(appId: string, nodes: readonly GraphNode[]): StoreSpec[] {
  return nodes.flatMap((node): StoreSpec[] => {
    const changelog = 'store' in node ? changelogTopic(appId, node.store) : '';
    if (node.kind === 'aggregate') return [{ store: node.store, changelog, serdes: node.serdes }];
    if (node.kind === 'materialize') return [{ store: node.store, changelog: node.topic, serdes: node.serdes, sourceTopic: true }];
    if (node.kind === 'windowedAggregate' || node.kind === 'sessionAggregate') {
      const serdes = { key: windowKeySerde(node.serdes.key) as StoreSpec['serdes']['key'], value: node.serdes.value };
      const grace = node.kind === 'sessionAggregate' ? node.grace : node.windows.grace;
      return [{ store: node.store, changelog, serdes, windowGrace: grace }];
    }
    return [];
  });
}
