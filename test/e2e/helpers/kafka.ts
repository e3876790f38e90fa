import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel, type Admin, type KafkaMessage, type Message } from 'kafkajs';
import { inject } from 'vitest';
import { waitFor } from './wait.ts';

/** Test-side Kafka access: a witness next to the runtime, never the runtime itself. */

let ownCluster: string | undefined;

/** Points this file's helpers and runners at a cluster of the file's own instead of the run's broker (undefined: back to it). */
export function useBrokers(list: string | undefined): void {
  ownCluster = list;
}

export const brokers = (): string => ownCluster ?? inject('kafkaBrokers');

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

/**
 * Creates a topic and waits for its leaders. A busy broker may answer a fresh topic's metadata
 * with a transient error for a while (UNKNOWN_TOPIC_OR_PARTITION): asked again, for up to a minute.
 */
export async function createTopic(
  topic: string,
  partitions: number,
  { replicationFactor, config = {} }: { replicationFactor?: number; config?: Record<string, string> } = {},
): Promise<void> {
  const deadline = Date.now() + 60_000;
  const spec = {
    topic,
    numPartitions: partitions,
    ...(replicationFactor === undefined ? {} : { replicationFactor }),
    configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
  };
  for (;;) {
    try {
      await withAdmin((admin) => admin.createTopics({ waitForLeaders: true, topics: [spec] }));
      const created = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [topic] }));
      if (created.topics[0]?.partitions.length === partitions) return;
    } catch (error) {
      const retriable = (error as { retriable?: boolean }).retriable === true || (error as Error).name === 'KafkaJSNumberOfRetriesExceeded';
      if (!retriable || Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topic ${topic} did not get its ${partitions} partition(s) within a minute`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function partitionCount(topic: string): Promise<number> {
  return withAdmin(async (admin) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length);
}

export interface TestProducer {
  /** Resolves when every message is acknowledged (acks=all). */
  send(topic: string, messages: Message[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A producer with the default (Java-compatible) partitioner, acks=all. `retryForever`, for a
 * producer that must outlast a broker's loss, keeps sending until a leader takes the records; a
 * retried send may write them twice (not idempotent: KafkaJS's idempotent producer failed there
 * with OUT_OF_ORDER_SEQUENCE_NUMBER). Across a leader change, send to one partition at a time:
 * KafkaJS does not send again what a retry finds on a broker that answered the first try.
 */
export async function openProducer({ retryForever = false } = {}): Promise<TestProducer> {
  const producer = kafka().producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    ...(retryForever ? { retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5000 } } : {}),
  });
  await producer.connect();
  return {
    async send(topic, messages) {
      for (let i = 0; i < messages.length; i += 5000) {
        await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 5000) });
      }
    },
    close: () => producer.disconnect(),
  };
}

/** Produces with the default (Java-compatible) partitioner, acks=all; returns when all are acknowledged. */
export async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = await openProducer();
  try {
    await producer.send(topic, messages);
  } finally {
    await producer.close();
  }
}

/**
 * Produces with kcat (librdkafka), a client nobody here wrote: one `key<TAB>value` line per
 * record, acks=all, then `options` (more `-X` settings). Keys and values must hold no tab or newline.
 */
export async function produceWithKcat(topic: string, messages: readonly { key: string; value: string }[], options: readonly string[] = []): Promise<void> {
  const child = spawn('kcat', ['-b', brokers(), '-t', topic, '-P', '-K', '\t', '-X', 'acks=all', ...options], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  child.stdin.end(messages.map((m) => `${m.key}\t${m.value}\n`).join(''));
  const code = await exited;
  if (code !== 0) throw new Error(`kcat exited ${code}: ${stderr}`);
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
  /** The value's bytes, for what is not text (an aggregate's changelog value: [timestamp][aggregate]). */
  valueBytes: Buffer | null;
  /** Milliseconds since the epoch, as the broker sent it. */
  timestamp: string;
  headers: KafkaMessage['headers'];
}

/** An aggregate's changelog value: the aggregate's text after its 8-byte timestamp. */
export function aggregateText(record: ReadRecord): string | null {
  return record.valueBytes === null ? null : record.valueBytes.subarray(8).toString();
}

/** The end offset (high watermark) of each partition of `topic`, by partition. */
export async function endOffsets(topic: string, admin?: Admin): Promise<Map<number, bigint>> {
  const read = async (a: Admin) => new Map((await a.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  return admin ? read(admin) : withAdmin(read);
}

/**
 * What `groupId` committed for each partition of `topics` (-1 where it never committed) and the
 * partition's end offset, by topic and partition, read in one admin session.
 */
export async function groupProgress(
  groupId: string,
  topics: readonly string[],
): Promise<{ topic: string; partition: number; committed: bigint; end: bigint }[]> {
  return withAdmin(async (admin) => {
    const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
    const rows: { topic: string; partition: number; committed: bigint; end: bigint }[] = [];
    for (const topic of topics) {
      const ends = await endOffsets(topic, admin);
      const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const [partition, end] of [...ends].sort(([a], [b]) => a - b)) {
        rows.push({ topic, partition, end, committed: BigInt(mine.find((p) => p.partition === partition)?.offset ?? '-1') });
      }
    }
    return rows;
  });
}

/** Every topic `groupId` has committed offsets for (a runner's repartition topics among them). */
async function committedTopics(groupId: string): Promise<string[]> {
  return withAdmin(async (admin) => (await admin.fetchOffsets({ groupId })).map((t) => t.topic));
}

/**
 * Waits until `groupId` committed, on every partition of `topics` (and of any other topic it
 * commits for, e.g. its repartition topics), the offset at the partition's end: it has
 * processed everything in them and its outputs were acknowledged (they go out before the commit).
 */
export async function waitForCommitted(groupId: string, topics: readonly string[], timeoutMs = 90_000): Promise<void> {
  let behind: string[] = [];
  await waitFor(
    `group ${groupId} to commit the ends of ${topics.join(', ')}`,
    async () => {
      const all = [...new Set([...topics, ...(await committedTopics(groupId))])];
      const progress = await groupProgress(groupId, all);
      behind = progress
        .filter((p) => p.end > 0n && p.committed !== p.end)
        .map((p) => `${p.topic}/${p.partition} at ${p.committed} of ${p.end}`);
      // Every partition of the topics asked for must be there: none with records skipped.
      return behind.length === 0 && topics.every((t) => progress.some((p) => p.topic === t));
    },
    { timeoutMs, intervalMs: 200 },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; behind: ${behind.join(', ') || 'none'}`);
  });
}

/** Waits until the end offsets of `topic` stay the same for `quietMs`. */
export async function waitForEndsToSettle(topic: string, { quietMs = 1000, timeoutMs = 60_000 } = {}): Promise<void> {
  const key = (ends: Map<number, bigint>) => [...ends].sort(([a], [b]) => a - b).join(';');
  let last = key(await endOffsets(topic));
  let since = Date.now();
  await waitFor(
    `the end offsets of ${topic} to stop moving`,
    async () => {
      const now = key(await endOffsets(topic));
      if (now !== last) {
        last = now;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/**
 * Reads EVERYTHING in `topic` once the runner's group is done: waits until `group` committed the
 * end offsets of its `inputs` (so every output of theirs was acknowledged), then until the
 * topic's end offsets stop moving, then reads up to those ends. A late duplicate shows up.
 */
export async function readAllSettled(
  topic: string,
  { group, inputs, quietMs = 1000, timeoutMs = 90_000 }: { group: string; inputs: readonly string[]; quietMs?: number; timeoutMs?: number },
): Promise<ReadRecord[]> {
  await waitForCommitted(group, inputs, timeoutMs);
  await waitForEndsToSettle(topic, { quietMs, timeoutMs });
  return readTopic(topic, await endOffsets(topic), timeoutMs);
}

/**
 * Waits until the topic holds at least `count` records, then reads everything in it up to its
 * end offsets at that moment: what is there beyond `count` shows up too, so exactness can be
 * asserted. Records written later are not seen: to assert that none come, use `readAllSettled`.
 */
export async function readAll(topic: string, count: number, timeoutMs = 60_000): Promise<ReadRecord[]> {
  await waitFor(`${count} records in ${topic}`, async () => (await recordCount(topic)) >= count, { timeoutMs });
  return readTopic(topic, await endOffsets(topic), timeoutMs);
}

/** The records of `topic` before the given offset of each partition (by partition index). */
export async function readTopicUpTo(topic: string, offsets: readonly number[], timeoutMs = 60_000): Promise<ReadRecord[]> {
  return readTopic(topic, new Map(offsets.map((o, p) => [p, BigInt(Math.max(o, 0))])), timeoutMs);
}

/**
 * Reads every partition of `topic` from its start up to `ends`, through a reader group deleted
 * afterwards. Records the broker deleted meanwhile (retention by timestamp) are not waited for.
 */
async function readTopic(topic: string, ends: ReadonlyMap<number, bigint>, timeoutMs: number): Promise<ReadRecord[]> {
  const groupId = uniqueName('reader');
  const consumer = kafka().consumer({ groupId, maxWaitTimeInMs: 100 });
  const records: ReadRecord[] = [];
  const starts = async () => withAdmin(async (admin) => new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.low)])));
  const next = await starts();
  const done = () => [...ends].every(([p, end]) => (next.get(p) ?? 0n) >= end);
  const doneOrDeleted = async () => {
    if (done()) return true;
    for (const [p, low] of await starts()) if (low > (next.get(p) ?? 0n)) next.set(p, low);
    return done();
  };
  await consumer.connect();
  let joined = false;
  try {
    if (!done()) {
      joined = true;
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const end = ends.get(batch.partition) ?? 0n;
          for (const m of batch.messages) {
            if (BigInt(m.offset) >= end) break;
            records.push({
              partition: batch.partition,
              offset: m.offset,
              key: m.key?.toString() ?? null,
              value: m.value?.toString() ?? null,
              valueBytes: m.value ?? null,
              timestamp: m.timestamp,
              headers: m.headers,
            });
            next.set(batch.partition, BigInt(m.offset) + 1n);
          }
          // Transaction markers and compaction leave gaps: the batch's last offset counts too.
          const last = BigInt(batch.lastOffset());
          if (last + 1n > next.get(batch.partition)! && last < end) next.set(batch.partition, last + 1n);
        },
      });
      let polls = 0;
      await waitFor(`reading ${topic} up to its ends`, () => (++polls % 20 === 0 ? doneOrDeleted() : done()), { timeoutMs }).catch((error: unknown) => {
        const behind = [...ends].filter(([p, end]) => (next.get(p) ?? 0n) < end).map(([p, end]) => `${p} at ${next.get(p)} of ${end}`);
        throw new Error(`${(error as Error).message}; partitions behind: ${behind.join(', ')}`);
      });
    }
  } finally {
    await consumer.disconnect();
    if (joined) await deleteGroup(groupId);
  }
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

/** Deletes a consumer group whose members have left (a reader's, a replay's); one that does not exist is fine. */
export async function deleteGroup(groupId: string): Promise<void> {
  const notFound = (error: unknown) =>
    (error as { groups?: { error?: { type?: string } }[] }).groups?.every((g) => g.error?.type === 'GROUP_ID_NOT_FOUND') === true;
  await waitFor(
    `deleting group ${groupId}`,
    () =>
      withAdmin(async (admin) => {
        await admin.deleteGroups([groupId]).catch((error: unknown) => {
          if (!notFound(error)) throw error;
        });
        return true;
      }),
    { timeoutMs: 30_000 },
  );
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
  for (const r of await readTopic(topic, await endOffsets(topic), 60_000)) if (r.key !== null && r.value !== null) latest.set(r.key, r.value);
  return latest;
}

/** Waits until the latest value of every key equals `expected` (and no other key has one); fails, showing the difference, if that does not happen. */
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
  ).catch((error: unknown) => {
    const wrong = [...new Set([...expected.keys(), ...seen.keys()])]
      .filter((k) => seen.get(k) !== expected.get(k))
      .slice(0, 10)
      .map((k) => `${k}: ${seen.get(k) ?? 'none'} instead of ${expected.get(k) ?? 'none'}`);
    throw new Error(`${(error as Error).message}; ${wrong.join(', ')}`);
  });
  return seen;
}
