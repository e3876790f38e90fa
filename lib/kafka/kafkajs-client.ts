import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
// Before kafkajs: it swaps KafkaJS's quadratic per-partition grouping for a linear one.
import { linearGrouping } from './kafkajs-grouping.ts';
import {
  Kafka,
  logLevel as kafkaLogLevel,
  type Consumer,
  type ConsumerConfig,
  type ConsumerRunConfig,
  type LogEntry,
  type OffsetsByTopicPartition,
} from 'kafkajs';
import { StreamrunError } from '../errors/streamrun-error.ts';
import { membersOf, taskAssigner } from './kafkajs-tasks.ts';
import type {
  Assignment,
  ChangelogReader,
  InputRecord,
  ConsumerHandlers,
  GroupMembership,
  InputConsumer,
  StreamClient,
  TopicPartitionOffset,
  TopicSpec,
} from './client.ts';
import { openProducer } from './kafkajs-producer.ts';
import { partitionOfKey } from './murmur2.ts';
import type { Logger } from '../runtime/logger.ts';

/** The module that talks to KafkaJS (its producer in kafkajs-producer.ts). */

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  /** How long an idle fetch waits on the broker; bounds how fast a stop is noticed. */
  readonly maxWaitTimeMs?: number;
  /** How long the group waits for a silent member; KafkaJS's own default (30 s) otherwise. */
  readonly sessionTimeoutMs?: number;
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
        // KafkaJS's connect resolves even when the broker never answered its first request;
        // the next request would then fail with a bare "Broker not connected".
        await admin.describeCluster();
        connected = true;
      } catch (error) {
        const root = rootMessage(error);
        throw new StreamrunError(
          'BROKER_UNREACHABLE',
          `cannot reach Kafka at ${options.brokers.join(',')}: ${root === 'Broker not connected' ? 'it took the connection but did not answer' : root}`,
          { cause: error, retriable: true },
        );
      }
    },

    async ping() {
      await admin.describeCluster();
    },

    async brokerCount() {
      return (await admin.describeCluster()).brokers.length;
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
        waitForLeaders: false,
        topics: specs.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          ...(s.replicationFactor === undefined ? {} : { replicationFactor: s.replicationFactor }),
          configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
        })),
      };
      // It resolves false when the topics exist already (another instance, or an earlier try of
      // ours, made them), and then KafkaJS does not wait for their leaders: so we always check
      // them ourselves. A broker may not know a new topic yet (UNKNOWN_TOPIC_OR_PARTITION) or
      // its leader (LEADER_NOT_AVAILABLE): the caller tries again.
      await admin.createTopics(request);
      await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
    },

    producer: () => openProducer(kafka, options.logger),

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
      const member = groupMember(kafka, {
        // Its own group, so it owns every changelog partition and reads what it is asked.
        groupId: `${options.clientId}-restore-${randomUUID()}`,
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: 100,
      });
      const reader = changelogReader(member.consumer);
      await member.start(topics, reader.runConfig);
      return reader;
    },

    consumer(groupId, membership) {
      const session = options.sessionTimeoutMs;
      // Three heartbeats per session, as Kafka's own clients default to.
      const timeouts = session === undefined ? {} : { sessionTimeout: session, heartbeatInterval: Math.min(3_000, Math.floor(session / 3)) };
      return kafkaConsumer(
        groupMember(kafka, {
          groupId,
          allowAutoTopicCreation: false,
          maxWaitTimeInMs: options.maxWaitTimeMs ?? 500,
          ...(membership === undefined ? {} : { partitionAssigners: [taskAssigner(membership)] }),
          ...timeouts,
        }),
        membership,
      );
    },

    transient: transientAnswer,
    partitionOf: partitionOfKey,

    close: () => admin.disconnect(),
  };
}

/** A consumer that starts as one step: in its group when `start` resolves, gone when it rejects. */
interface GroupMember {
  readonly consumer: Consumer;
  /** False until the first join: a crash before it fails `start` instead of restarting. */
  joined(): boolean;
  start(topics: readonly string[], run: ConsumerRunConfig): Promise<void>;
}

// KafkaJS reports a first join that fails (a coordinator still loading, say) only as a crash
// and, later, tries again on its own; `run` resolves either way. At start-up the caller retries
// instead, and must know: until the member joined, a crash is not restarted but fails `start`.
function groupMember(kafka: Kafka, config: ConsumerConfig): GroupMember {
  let joined = false;
  let failure: Error | undefined;
  const consumer = kafka.consumer({ ...config, retry: { restartOnFailure: async () => joined } });
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!joined) failure = payload.error;
  });
  return {
    consumer,
    joined: () => joined,
    async start(topics, run) {
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [...topics], fromBeginning: true });
        // KafkaJS has joined, or crashed, by the time this resolves.
        await consumer.run(run);
        if (failure !== undefined) throw failure;
      } catch (error) {
        await consumer.disconnect().catch(() => {});
        throw error;
      }
    },
  };
}

interface ActiveRead {
  readonly until: bigint;
  readonly onRecords: (records: readonly InputRecord[]) => Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

function changelogReader(consumer: Consumer): ChangelogReader & { readonly runConfig: ConsumerRunConfig } {
  const reads = new Map<string, ActiveRead>();
  const pause = (topic: string, partition: number) => consumer.pause([{ topic, partitions: [partition] }]);
  return {
    runConfig: {
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
    },
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

function kafkaConsumer(member: GroupMember, membership: GroupMembership | undefined): InputConsumer {
  const { consumer } = member;
  return {
    async start(topics, handlers: ConsumerHandlers) {
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const assignment: Assignment = new Map(Object.entries(payload.memberAssignment));
        handlers.onAssignment(assignment);
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (member.joined()) handlers.onCrash(payload.error, payload.restart);
      });
      await member.start(topics, {
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary }) =>
          handlers.onBatch(
            {
              topic: batch.topic,
              partition: batch.partition,
              records: batch.messages,
              lastOffset: batch.lastOffset(),
              highWatermark: batch.highWatermark,
            },
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
    members: async () => (membership === undefined ? [] : membersOf(await consumer.describeGroup(), membership)),
    pause: (topic, partition) => consumer.pause([{ topic, partitions: [partition] }]),
    resume(topic, partition, offset) {
      if (offset !== undefined) consumer.seek({ topic, partition, offset });
      consumer.resume([{ topic, partitions: [partition] }]);
    },
    commit: (offsets) => consumer.commitOffsets([...offsets]),
    close: () => consumer.disconnect(),
  };
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

/**
 * The broker answers that a fresh or busy cluster gives for a while and then stops giving, by
 * KafkaJS's name for each and then Kafka's own (the one users find in Kafka's docs).
 */
const transientTypes: Readonly<Record<string, string>> = {
  UNKNOWN_TOPIC_OR_PARTITION: 'UNKNOWN_TOPIC_OR_PARTITION',
  LEADER_NOT_AVAILABLE: 'LEADER_NOT_AVAILABLE',
  NOT_LEADER_FOR_PARTITION: 'NOT_LEADER_OR_FOLLOWER',
  REQUEST_TIMED_OUT: 'REQUEST_TIMED_OUT',
  NOT_COORDINATOR_FOR_GROUP: 'NOT_COORDINATOR',
  GROUP_LOAD_IN_PROGRESS: 'COORDINATOR_LOAD_IN_PROGRESS',
  GROUP_COORDINATOR_NOT_AVAILABLE: 'COORDINATOR_NOT_AVAILABLE',
};
/**
 * KafkaJS wraps some answers in a plain KafkaJSError that keeps only the text (a coordinator
 * moving during a join, say): KafkaJS's own table of answers, by text, tells them apart again.
 */
const transientTexts: ReadonlyMap<string, string> = new Map(
  (createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { errorCodes: { type: string; message: string }[] }).errorCodes
    .filter(({ type }) => type in transientTypes)
    .map(({ type, message }) => [message, transientTypes[type]!]),
);

/**
 * KafkaJS's own errors for a connection that failed or timed out, which KafkaJS retries too, and
 * for a search of the group coordinator on which every broker failed (the reasons are dropped).
 */
const transientErrorClasses = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSGroupCoordinatorNotFound',
]);

/**
 * Kafka's name for a transient broker answer in `error`, or undefined. KafkaJS wraps what its
 * own retries gave up on (`cause`) and gathers per-topic errors (`errors`): each is looked into.
 */
export function transientAnswer(error: unknown): string | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const { type, errors } = e as { type?: unknown; errors?: unknown };
    if (typeof type === 'string' && type in transientTypes) return transientTypes[type];
    if (transientErrorClasses.has(e.name)) return e.name;
    if (e.name === 'KafkaJSError' && transientTexts.has(e.message)) return transientTexts.get(e.message);
    // What KafkaJS throws, as a plain Error, for a request to a broker whose connection is down.
    if (e.message === 'Broker not connected') return 'broker not connected';
    if (Array.isArray(errors) && errors.length > 0) {
      const answers = errors.map((inner) => transientAnswer(inner));
      return answers.every((a) => a !== undefined) ? answers[0] : undefined;
    }
  }
  return undefined;
}

// KafkaJS logs retriable protocol errors (a coordinator still loading, say) at ERROR; they are
// noise unless something gives up, and that surfaces through our own handling. So does a
// broker that cannot be reached at start-up: one line says so, not one per retry. And so does a
// consumer's crash: a start-up retry or the runner's crash handler says what comes of it.
function forwardLog(logger: Logger, { namespace, level, log }: LogEntry, connected: boolean): void {
  const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
  const text = `kafkajs ${namespace}: ${message}`;
  const crash = namespace === 'Consumer' && message.startsWith('Crash: ');
  const quiet = crash || namespace === 'Connection' || (namespace === 'BrokerPool' && !connected);
  if (quiet || level > kafkaLogLevel.WARN) logger.debug(text, fields);
  else if (level === kafkaLogLevel.WARN) logger.warn(text, fields);
  else logger.error(text, fields);
}

function rootMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
