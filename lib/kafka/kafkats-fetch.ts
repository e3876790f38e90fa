import type { Broker } from '@kafkats/client';
import type { InputRecord } from './client.ts';
import { decodePartition } from './kafkats-records.ts';

/** What one fetch wants of one partition. */
export interface FetchPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/** What one fetch brought back for one partition. */
export interface FetchedPartition {
  readonly topic: string;
  readonly partition: number;
  /** Where the fetch started. */
  readonly from: bigint;
  /** Kafka's answer for the partition: 0 when it sent records (or had none yet). */
  readonly errorCode: number;
  readonly records: InputRecord[];
  /** The last offset the answer covered, markers and aborted records included; -1n when none. */
  readonly lastOffset: bigint;
  /** What a read-committed reader can reach now: the last stable offset. */
  readonly end: bigint;
}

export interface FetchSettings {
  readonly maxWaitMs: number;
  /** Bytes per partition per fetch; a batch larger than it still comes whole (KIP-74). */
  readonly partitionMaxBytes: number;
  readonly verifyCrc: boolean;
}

/** One Fetch request (read_committed, no fetch session) and its records, decoded. */
export async function fetchOnce(broker: Broker, positions: readonly FetchPosition[], settings: FetchSettings): Promise<FetchedPartition[]> {
  const byTopic = new Map<string, FetchPosition[]>();
  for (const p of positions) {
    const list = byTopic.get(p.topic);
    if (list === undefined) byTopic.set(p.topic, [p]);
    else list.push(p);
  }
  const from = new Map(positions.map((p) => [`${p.topic}:${p.partition}`, p.offset]));
  const response = await broker.fetch({
    replicaId: -1,
    maxWaitMs: settings.maxWaitMs,
    minBytes: 1,
    maxBytes: 50 * 1024 * 1024,
    isolationLevel: 1,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [...byTopic].map(([topic, list]) => ({
      topic,
      partitions: list.map((p) => ({ partitionIndex: p.partition, fetchOffset: p.offset, partitionMaxBytes: settings.partitionMaxBytes, currentLeaderEpoch: -1, logStartOffset: -1n })),
    })),
    forgottenTopicsData: [],
  });
  if (response.errorCode !== 0) {
    return positions.map((p) => ({ ...p, from: p.offset, errorCode: response.errorCode, records: [], lastOffset: -1n, end: -1n }));
  }
  const fetched: FetchedPartition[] = [];
  for (const t of response.topics) {
    for (const p of t.partitions) {
      const start = from.get(`${t.topic}:${p.partitionIndex}`);
      if (start === undefined) continue;
      const end = p.lastStableOffset >= 0n ? p.lastStableOffset : p.highWatermark;
      if (p.errorCode !== 0) {
        fetched.push({ topic: t.topic, partition: p.partitionIndex, from: start, errorCode: p.errorCode, records: [], lastOffset: -1n, end });
        continue;
      }
      const { records, lastOffset } = await decodePartition(p.recordsData, start, p.abortedTransactions, settings.verifyCrc);
      fetched.push({ topic: t.topic, partition: p.partitionIndex, from: start, errorCode: 0, records, lastOffset, end });
    }
  }
  return fetched;
}
