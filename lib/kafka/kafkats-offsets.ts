import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaProtocolError, type Cluster } from '@kafkats/client';
import { retriable } from './kafkats-errors.ts';

/** ListOffsets' timestamp for a partition's first offset still in the log. */
export const EARLIEST = -2n;

/** Answers after which the partition's leader is looked up again. */
export const leaderMoved: ReadonlySet<number> = new Set([
  3, // UNKNOWN_TOPIC_OR_PARTITION
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  9, // REPLICA_NOT_AVAILABLE
  13, // NETWORK_EXCEPTION
  74, // FENCED_LEADER_EPOCH
  75, // UNKNOWN_LEADER_EPOCH
]);

const RETRY_FOR_MS = 30_000;

/**
 * The offset at `timestamp` (EARLIEST, say) of each partition, asked of each partition's
 * leader, by `topic:partition`.
 */
export async function listOffsets(cluster: Cluster, partitions: ReadonlyMap<string, readonly number[]>, timestamp: bigint): Promise<Map<string, bigint>> {
  const found = new Map<string, bigint>();
  let pending = [...partitions].flatMap(([topic, list]) => list.map((partition) => ({ topic, partition })));
  const until = Date.now() + RETRY_FOR_MS;
  for (let attempt = 0; pending.length > 0; attempt++) {
    const byLeader = new Map<number, { topic: string; partition: number }[]>();
    const metadata = await cluster.refreshMetadata([...new Set(pending.map((p) => p.topic))]);
    for (const p of pending) {
      const leader = metadata.topics.get(p.topic)?.partitions.get(p.partition)?.leaderId ?? -1;
      const list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, [p]);
      else list.push(p);
    }
    const again: { topic: string; partition: number }[] = [...(byLeader.get(-1) ?? [])];
    byLeader.delete(-1);
    await Promise.all(
      [...byLeader].map(async ([leader, list]) => {
        try {
          const broker = await cluster.getBroker(leader);
          const topics = new Map<string, number[]>();
          for (const { topic, partition } of list) (topics.get(topic) ?? topics.set(topic, []).get(topic)!).push(partition);
          const response = await broker.listOffsets({
            replicaId: -1,
            isolationLevel: 1,
            topics: [...topics].map(([name, ps]) => ({ name, partitions: ps.map((partitionIndex) => ({ partitionIndex, timestamp })) })),
          });
          for (const t of response.topics) {
            for (const p of t.partitions) {
              if (p.errorCode === 0) found.set(`${t.name}:${p.partitionIndex}`, p.offset);
              else if (leaderMoved.has(p.errorCode) && Date.now() < until) again.push({ topic: t.name, partition: p.partitionIndex });
              else throw new KafkaProtocolError(p.errorCode, `ListOffsets ${t.name}-${p.partitionIndex}`);
            }
          }
        } catch (error) {
          if (!retriable(error) || Date.now() > until) throw error;
          again.push(...list);
        }
      }),
    );
    if (again.length > 0 && Date.now() > until) throw new Error(`ListOffsets: no leader answered for ${again.map((p) => `${p.topic}-${p.partition}`).join(', ')}`);
    pending = again;
    if (pending.length > 0) await sleep(Math.min(100 * 2 ** attempt, 2_000));
  }
  return found;
}
