import type { GraphNode } from '../graph/nodes.ts';
import { serdes } from '../serde/builtin.ts';
import type { OutputBuffer } from '../runtime/output-buffer.ts';
import type { StoreChange } from './level-store.ts';
import { bufferedKeySerde } from './join-buffer.ts';
import type { StoreSpec } from './task-stores.ts';
import { unmatchedKeySerde, unmatchedValueSerde } from './unmatched-records.ts';
import { timestampedSerde, windowKeySerde } from './window-store.ts';

/** The compacted topic every write of a store also goes to, one partition per task. */
export function changelogTopic(appId: string, store: string): string {
  return `${appId}-${store}-changelog`;
}

export const changelogConfig: Readonly<Record<string, string>> = Object.freeze({ 'cleanup.policy': 'compact' });

/** The stores the nodes of one sub-topology keep. */
export function storeSpecs(appId: string, nodes: readonly GraphNode[]): StoreSpec[] {
  return nodes.flatMap((node): StoreSpec[] => {
    const changelog = 'store' in node ? changelogTopic(appId, node.store) : '';
    if (node.kind === 'aggregate') {
      const value = timestampedSerde(node.serdes.value) as StoreSpec['serdes']['value'];
      return [{ store: node.store, changelog, serdes: { key: node.serdes.key, value }, timestamped: true }];
    }
    if (node.kind === 'materialize') return [{ store: node.store, changelog: node.topic, serdes: node.serdes, sourceTopic: true }];
    if (node.kind === 'windowedAggregate' || node.kind === 'sessionAggregate') {
      const serdes = {
        key: windowKeySerde(node.serdes.key) as StoreSpec['serdes']['key'],
        value: timestampedSerde(node.serdes.value) as StoreSpec['serdes']['value'],
      };
      // A session can still grow by a record within gap of its end: it closes at end + gap + grace.
      const grace = node.kind === 'sessionAggregate' ? node.gap + node.grace : node.windows.grace;
      return [{ store: node.store, changelog, serdes, window: { grace, key: node.serdes.key }, windowed: true, timestamped: true }];
    }
    if (node.kind === 'slidingAggregate') {
      const serdes = { key: windowKeySerde(node.serdes.key), value: timestampedSerde(node.serdes.value) };
      return [{ store: node.store, changelog, serdes: serdes as StoreSpec['serdes'], windowed: true, indexed: true, timestamped: true }];
    }
    if (node.kind === 'streamJoin') {
      const key = bufferedKeySerde(node.serdes.key) as StoreSpec['serdes']['key'];
      const buffer: StoreSpec = { store: node.store, changelog, serdes: { key, value: node.serdes[node.side] }, indexed: true };
      const unmatched = node.stores.unmatched;
      // One side declares the unmatched records both sides use.
      if (unmatched === undefined || node.side === 'right') return [buffer];
      const serdes = { key: unmatchedKeySerde(node.serdes.key), value: unmatchedValueSerde(node.serdes) } as StoreSpec['serdes'];
      return [buffer, { store: unmatched, changelog: changelogTopic(appId, unmatched), serdes, indexed: true }];
    }
    if (node.kind === 'tableJoin') {
      // One side declares the stores both sides write.
      if (node.side === 'right') return [];
      const times = { store: node.times, changelog: changelogTopic(appId, node.times), serdes: { key: node.serdes.key, value: serdes.json() } };
      return [{ store: node.store, changelog, serdes: node.serdes }, times];
    }
    return [];
  });
}

/** Puts a store's pending writes into the outputs, bound for the task's changelog partition; returns how many. */
export function stageChanges(outputs: OutputBuffer, changelog: string, partition: number, changes: readonly StoreChange[]): number {
  if (changes.length === 0) return 0;
  const lane = outputs.lane(changelog);
  for (const change of changes) lane.push({ partition, key: change.key, value: change.value });
  outputs.size += changes.length;
  return changes.length;
}
