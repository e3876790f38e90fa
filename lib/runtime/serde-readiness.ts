import type { GraphNode } from '../graph/nodes.ts';
import type { InputRecord } from '../kafka/client.ts';
import type { Serde } from '../serde/serde.ts';

/** Every serde the nodes read or write with, once each. */
function serdesOf(nodes: readonly GraphNode[]): Set<Serde<unknown>> {
  const found = new Set<Serde<unknown>>();
  for (const node of nodes) {
    if ('serdes' in node) for (const serde of Object.values(node.serdes) as Serde<unknown>[]) found.add(serde);
    if (node.kind === 'sink' && node.windowedKey !== undefined) found.add(node.windowedKey);
  }
  return found;
}

/** Opens the serdes that have something to fetch first (a registry serde's schema id). */
export async function openSerdes(nodes: readonly GraphNode[]): Promise<void> {
  await Promise.all([...serdesOf(nodes)].map((serde) => serde.open?.()));
}

/**
 * Per source topic, what must be fetched before its records can be read: `undefined` for a
 * topic whose serdes never fetch, so a batch of it costs nothing here.
 */
export type Preparer = (records: readonly InputRecord[], from: number, end: number) => Promise<void> | undefined;

export function preparers(nodes: readonly GraphNode[]): Map<string, Preparer> {
  const byTopic = new Map<string, Preparer>();
  for (const node of nodes) {
    if (node.kind !== 'source') continue;
    const { key, value } = node.serdes;
    const prepareKey = key.prepare?.bind(key);
    const prepareValue = value.prepare?.bind(value);
    if (prepareKey === undefined && prepareValue === undefined) continue;
    byTopic.set(node.topic, (records, from, end) => {
      let waits: Promise<void>[] | undefined;
      for (let i = from; i < end; i++) {
        const record = records[i]!;
        const forKey = record.key === null ? undefined : prepareKey?.(record.key);
        const forValue = record.value === null ? undefined : prepareValue?.(record.value);
        if (forKey !== undefined) (waits ??= []).push(forKey);
        if (forValue !== undefined) (waits ??= []).push(forValue);
      }
      return waits === undefined ? undefined : Promise.all(waits).then(() => undefined);
    });
  }
  return byTopic;
}
