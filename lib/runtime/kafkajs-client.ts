import { randomUUID } from 'node:crypto';
// Before kafkajs: it swaps KafkaJS's quadratic per-partition grouping for a linear one.
import { linearGrouping } from './kafkajs-grouping.ts';
import {
  Kafka,
  Partitioners,
  logLevel as kafkaLogLevel,
  type Consumer,
  type LogEntry,
  type Message,
  type OffsetsByTopicPartition,
  type TopicMessages,
} from 'kafkajs';
import { StreamrunError } from '../errors/streamrun-error.ts';
import type {
  Assignment,
  OutputRecord,
  ProducedOffset,
  ChangelogReader,
  InputRecord,
  ConsumerHandlers,
  InputConsumer,
  OutputProducer,
  StreamClient,
  TopicPartitionOffset,
  TopicSpec,
} from './client.ts';
import type { Logger } from './logger.ts';

/** The one module that talks to KafkaJS. */

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  /** How long an idle fetch waits on the broker; bounds how fast a stop is noticed. */
  readonly maxWaitTimeMs?: number;
}

export function createKafkaClient(options: KafkaClientOptions): StreamClient {
  let connected = false;
  const config = (retries: number, maxRetryTime: number) => ({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: 3000,
    logLevel: kafkaLogLevel.WARN,
    logCreator: () => (entry: LogEntry) => forwardLog(options.logger, entry, connected),
    retry: { initialRetryTime: 200, retries, maxRetryTime },
  });
  const kafka = new Kafka(config(8, 30_000));
  if (!linearGrouping()) options.logger.debug('kafkajs was loaded before streamrun: its sends group messages in quadratic time');
  // KafkaJS takes connection retries from the client, not the admin: a start against a broker
  // that is not there should fail in seconds, not after a minute of back-off.
  const admin = new Kafka(config(3, 2000)).admin();

  return {
    async connect() {
      try {
        await admin.connect();
        connected = true;
      } catch (error) {
        throw new StreamrunError(
          'BROKER_UNREACHABLE',
          `cannot reach Kafka at ${options.brokers.join(',')}: ${rootMessage(error)}`,
          { cause: error, retriable: true },
        );
      }
    },

    async ping() {
      await admin.describeCluster();
    },

    async partitionCounts(topics) {
      const existing = new Set(await admin.listTopics());
      const wanted = topics.filter((t) => existing.has(t));
      const counts = new Map<string, number>();
      if (wanted.length === 0) return counts;
      const metadata = await admin.fetchTopicMetadata({ topics: wanted });
      for (const t of metadata.topics) counts.set(t.name, t.partitions.length);
      return counts;
    },

    async createTopics(specs: readonly TopicSpec[]) {
      if (specs.length === 0) return;
      const request = {
        waitForLeaders: true,
        topics: specs.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      };
      // false means another instance created them first: what we want either way. A broker
      // may answer the metadata request of KafkaJS's wait for leaders before it knows the new
      // topics (UNKNOWN_TOPIC_OR_PARTITION), which KafkaJS does not retry: ask again.
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.createTopics(request);
          return;
        } catch (error) {
          if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || attempt === 20) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100 * Math.min(attempt, 5)));
        }
      }
    },

    async producer(): Promise<OutputProducer> {
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        // An idempotent producer keeps retrying rather than drop a record; a broker that stays
        // away shows up as a stalled task and, at shutdown, as SHUTDOWN_TIMEOUT.
        retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5000 },
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      return {
        async send(records) {
          const acks: ProducedOffset[] = [];
          // One after the other: each partition's records stay in order, and its first ack
          // (the one a changelog checkpoint counts from) comes first.
          for (const topicMessages of requests(records)) {
            for (const a of await producer.sendBatch({ acks: -1, topicMessages })) {
              acks.push({ topic: a.topicName, partition: a.partition, baseOffset: a.baseOffset ?? '-1' });
            }
          }
          return acks;
        },
        close: () => producer.disconnect(),
      };
    },

    async offsets(topic) {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, { low: o.low, high: o.high }]));
    },

    async committedOffsets(groupId, topic) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const committed = new Map<number, string>();
      // KafkaJS reports a partition the group never committed as offset -1.
      for (const p of offsets?.partitions ?? []) if (BigInt(p.offset) >= 0n) committed.set(p.partition, p.offset);
      return committed;
    },

    async changelogReader(topics) {
      const consumer = kafka.consumer({
        // Its own group, so it owns every changelog partition and reads what it is asked.
        groupId: `${options.clientId}-restore-${randomUUID()}`,
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: 100,
      });
      const reader = changelogReader(consumer);
      await consumer.connect();
      await consumer.subscribe({ topics: [...topics], fromBeginning: true });
      await reader.run();
      return reader;
    },

    consumer(groupId) {
      return kafkaConsumer(
        kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: options.maxWaitTimeMs ?? 500 }),
      );
    },

    close: () => admin.disconnect(),
  };
}

interface ActiveRead {
  readonly until: bigint;
  readonly onRecords: (records: readonly InputRecord[]) => Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

function changelogReader(consumer: Consumer): ChangelogReader & { run(): Promise<void> } {
  const reads = new Map<string, ActiveRead>();
  const pause = (topic: string, partition: number) => consumer.pause([{ topic, partitions: [partition] }]);
  return {
    run: () =>
      consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, isStale }) => {
          const read = reads.get(`${batch.topic}:${batch.partition}`);
          // Partitions nobody asked for are paused until a read seeks and resumes them.
          if (read === undefined) return pause(batch.topic, batch.partition);
          if (isStale()) return;
          try {
            const records = batch.messages.filter((m) => BigInt(m.offset) < read.until);
            if (records.length > 0) await read.onRecords(records);
            resolveOffset(batch.lastOffset());
            if (BigInt(batch.lastOffset()) + 1n >= read.until) {
              reads.delete(`${batch.topic}:${batch.partition}`);
              pause(batch.topic, batch.partition);
              read.resolve();
            }
          } catch (error) {
            reads.delete(`${batch.topic}:${batch.partition}`);
            pause(batch.topic, batch.partition);
            read.reject(error);
          }
        },
      }),
    read(topic, partition, from, until, onRecords) {
      if (BigInt(from) >= BigInt(until)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        reads.set(`${topic}:${partition}`, { until: BigInt(until), onRecords, resolve, reject });
        consumer.seek({ topic, partition, offset: from });
        consumer.resume([{ topic, partitions: [partition] }]);
      });
    },
    close: () => consumer.disconnect(),
  };
}

function kafkaConsumer(consumer: Consumer): InputConsumer {
  return {
    async start(topics, handlers: ConsumerHandlers) {
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const assignment: Assignment = new Map(Object.entries(payload.memberAssignment));
        handlers.onAssignment(assignment);
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => handlers.onCrash(payload.error, payload.restart));
      await consumer.connect();
      await consumer.subscribe({ topics: [...topics], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }) =>
          handlers.onBatch(
            { topic: batch.topic, partition: batch.partition, records: batch.messages, lastOffset: batch.lastOffset() },
            {
              resolveOffset,
              heartbeat,
              isRunning,
              isStale,
              // consumer.commitOffsets() silently does nothing once stop() began; the batch's own
              // commit still reaches the coordinator while the batch in flight drains.
              commit: (offsets) => commitOffsetsIfNecessary(byTopic(offsets)),
            },
          ),
      });
    },
    pause: (topic, partition) => consumer.pause([{ topic, partitions: [partition] }]),
    resume(topic, partition, offset) {
      if (offset !== undefined) consumer.seek({ topic, partition, offset });
      consumer.resume([{ topic, partitions: [partition] }]);
    },
    commit: (offsets) => consumer.commitOffsets([...offsets]),
    close: () => consumer.disconnect(),
  };
}

/**
 * A broker refuses a record batch over its `message.max.bytes` (1 MiB by default), and KafkaJS
 * puts all of a send's records for one partition into one batch: a task's commit of thousands of
 * records to its partition would be refused. So sends are cut into requests of at most this
 * many bytes of keys, values and headers (plus a per-record allowance).
 */
export const maxRequestBytes = 768 * 1024;
const recordOverhead = 64;

function* requests(records: ReadonlyMap<string, readonly OutputRecord[]>): Generator<TopicMessages[]> {
  let request = new Map<string, Message[]>();
  let bytes = 0;
  for (const [topic, messages] of records) {
    for (const message of messages) {
      const size = recordSize(message);
      if (bytes + size > maxRequestBytes && bytes > 0) {
        yield toTopicMessages(request);
        request = new Map();
        bytes = 0;
      }
      let lane = request.get(topic);
      if (lane === undefined) request.set(topic, (lane = []));
      // Our records have KafkaJS's message shape; only the readonly marks differ.
      lane.push(message as Message);
      bytes += size;
    }
  }
  if (bytes > 0) yield toTopicMessages(request);
}

function toTopicMessages(request: ReadonlyMap<string, Message[]>): TopicMessages[] {
  return [...request].map(([topic, messages]) => ({ topic, messages }));
}

function recordSize(record: OutputRecord): number {
  let size = recordOverhead + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    for (const part of Array.isArray(value) ? value : [value]) size += name.length + (part?.length ?? 0);
  }
  return size;
}

function byTopic(offsets: readonly TopicPartitionOffset[]): OffsetsByTopicPartition {
  const topics = new Map<string, { partition: number; offset: string }[]>();
  for (const { topic, partition, offset } of offsets) {
    let partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, (partitions = []));
    partitions.push({ partition, offset });
  }
  return { topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) };
}

// KafkaJS logs retriable protocol errors (a coordinator still loading, say) at ERROR; they are
// noise unless something gives up, and that surfaces through our own handling. So does a
// broker that cannot be reached at start-up: one line says so, not one per retry.
function forwardLog(logger: Logger, { namespace, level, log }: LogEntry, connected: boolean): void {
  const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
  const text = `kafkajs ${namespace}: ${message}`;
  const quiet = namespace === 'Connection' || (namespace === 'BrokerPool' && !connected);
  if (quiet || level > kafkaLogLevel.WARN) logger.debug(text, fields);
  else if (level === kafkaLogLevel.WARN) logger.warn(text, fields);
  else logger.error(text, fields);
}

function rootMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
