import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel, type Admin, type KafkaMessage, type Message } from 'kafkajs';
import { inject } from 'vitest';
import { waitFor } from './wait.ts';

/** Test-side Kafka access: a witness next to the runtime, never the runtime itself. */

export const brokers = (): string => inject('kafkaBrokers');

export const uniqueName = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

const kafka = () => new Kafka({ clientId: 'streamrun-tests', brokers: brokers().split(','), logLevel: logLevel.NOTHING });

export async function withAdmin<T>(use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

export async function createTopic(topic: string, partitions: number): Promise<void> {
  await withAdmin((admin) => admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] }));
}

export async function partitionCount(topic: string): Promise<number> {
  return withAdmin(async (admin) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length);
}

/** Produces with the default (Java-compatible) partitioner, acks=all; returns when all are acknowledged. */
export async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 5000) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 5000) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Number of records in a topic (sum of high watermarks; no transactions involved). */
export async function recordCount(topic: string): Promise<number> {
  return withAdmin(async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  });
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  /** Milliseconds since the epoch, as the broker sent it. */
  timestamp: string;
  headers: KafkaMessage['headers'];
}

/**
 * Waits until the topic holds at least `count` records, then reads everything in it: what is
 * there beyond `count` shows up too, so exactness can be asserted.
 */
export async function readAll(topic: string, count: number, timeoutMs = 60_000): Promise<ReadRecord[]> {
  await waitFor(`${count} records in ${topic}`, async () => (await recordCount(topic)) >= count, { timeoutMs });
  const total = await recordCount(topic);
  const consumer = kafka().consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          records.push({
            partition: batch.partition,
            offset: m.offset,
            key: m.key?.toString() ?? null,
            value: m.value?.toString() ?? null,
            timestamp: m.timestamp,
            headers: m.headers,
          });
        }
      },
    });
    await waitFor(`reading ${total} records of ${topic}`, () => records.length >= total, { timeoutMs });
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

/** Records grouped by partition, in offset order. */
export function byPartition<T extends { partition: number }>(records: readonly T[]): Map<number, T[]> {
  const map = new Map<number, T[]>();
  for (const r of records) map.set(r.partition, [...(map.get(r.partition) ?? []), r]);
  return map;
}

/** The last value of each key in a topic, as it stands now (keys keep their partition, so offset order is their order). */
export async function latestByKey(topic: string): Promise<Map<string, string>> {
  const latest = new Map<string, string>();
  if ((await recordCount(topic).catch(() => 0)) === 0) return latest;
  for (const r of await readAll(topic, 1)) if (r.key !== null && r.value !== null) latest.set(r.key, r.value);
  return latest;
}

/** Waits until the latest value of every key equals `expected` (and no other key has one). */
export async function waitForLatest(topic: string, expected: ReadonlyMap<string, string>, timeoutMs = 60_000): Promise<Map<string, string>> {
  let seen = new Map<string, string>();
  const same = () => seen.size === expected.size && [...expected].every(([k, v]) => seen.get(k) === v);
  await waitFor(
    `the latest values in ${topic}`,
    async () => {
      seen = await latestByKey(topic);
      return same();
    },
    { timeoutMs, intervalMs: 500 },
  ).catch(() => {});
  return seen;
}
