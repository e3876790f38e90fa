import { Admin, KafkaProtocolError, type Cluster, type responses } from '@kafkats/client';
import type { Logger } from '../runtime/logger.ts';
import type { StreamClient } from './client.ts';
import { connectionError } from './connection-errors.ts';
import { noSecurity, type KafkaSecurity } from './security.ts';
import { kafkatsTransient } from './kafkats-errors.ts';

/** The admin side of StreamClient on @kafkats/client (its producer in kafkats-producer.ts). */

export type KafkatsAdmin = Pick<StreamClient, 'connect' | 'ping' | 'brokerCount' | 'partitionCounts' | 'createTopics' | 'offsets' | 'committedOffsets'>;

const UNKNOWN_TOPIC_OR_PARTITION = 3;
const TOPIC_ALREADY_EXISTS = 36;
const NOT_COORDINATOR = 16;
/** A follower that is down: the partition still has a leader, so nothing to wait for. */
const REPLICA_NOT_AVAILABLE = 9;

/**
 * `cluster` is the caller's, not yet connected: `connect` connects it. Its connection timeout
 * bounds how long a start against a broker that is not there takes (Cluster.connect tries each
 * bootstrap broker once).
 */
export function kafkatsAdmin(cluster: Cluster, options: { brokers: readonly string[]; logger: Logger; security?: KafkaSecurity }): KafkatsAdmin {
  const admin = new Admin(cluster);
  return {
    async connect() {
      try {
        await cluster.connect();
      } catch (error) {
        // Cluster.connect keeps the bootstrap brokers of a failed try and adds them again on the
        // next; a disconnect forgets them, so the caller's retry starts clean.
        await cluster.disconnect().catch(() => {});
        throw connectionError(error, options.brokers, options.security ?? noSecurity);
      }
      await connectBrokers(cluster, options.logger);
    },

    async ping() {
      await retried(cluster, options.logger, () => metadata(cluster, []));
    },

    async brokerCount() {
      return (await retried(cluster, options.logger, () => metadata(cluster, []))).brokers.length;
    },

    partitionCounts: (topics) => retried(cluster, options.logger, async () => {
      const counts = new Map<string, number>();
      if (topics.length === 0) return counts;
      for (const t of (await metadata(cluster, topics)).topics) {
        if (t.name === null || t.errorCode === UNKNOWN_TOPIC_OR_PARTITION) continue;
        if (t.errorCode !== 0) throw new KafkaProtocolError(t.errorCode, `metadata of ${t.name}`);
        // Every partition counts, a leaderless one too: kafkats's own metadata drops those.
        counts.set(t.name, t.partitions.length);
      }
      return counts;
    }),

    createTopics: (specs) => retried(cluster, options.logger, async () => {
      if (specs.length === 0) return;
      const results = await admin.createTopics(
        specs.map((s) => ({
          name: s.topic,
          numPartitions: s.partitions,
          // kafkats asks for one copy when none is given; -1 is the broker's default, as KafkaJS asks.
          replicationFactor: s.replicationFactor ?? -1,
          configs: { ...s.config },
        })),
      );
      for (const r of results) {
        if (r.errorCode === TOPIC_ALREADY_EXISTS) options.logger.debug(`topic ${r.name} exists already`);
        else if (r.errorCode !== 0) throw new KafkaProtocolError(r.errorCode, `creating ${r.name}: ${r.errorMessage ?? ''}`);
      }
      // A broker may not know a new topic yet (UNKNOWN_TOPIC_OR_PARTITION) or its leaders
      // (LEADER_NOT_AVAILABLE): thrown, and the caller tries again.
      await knownTopics(cluster, specs.map((s) => s.topic));
    }),

    offsets: (topic) => retried(cluster, options.logger, async () => {
      const [described] = await knownTopics(cluster, [topic]);
      const partitions = described!.partitions.map((p) => p.partitionIndex);
      // Up to the last stable offset, as KafkaJS reads them: what a read_committed reader reaches.
      const [low, high] = await Promise.all([
        admin.fetchTopicOffsets(topic, partitions, 'earliest'),
        admin.fetchTopicOffsets(topic, partitions, 'latest', { isolationLevel: 'read_committed' }),
      ]);
      return new Map(partitions.sort((a, b) => a - b).map((p) => [p, { low: String(low.get(p)), high: String(high.get(p)) }]));
    }),

    committedOffsets: (groupId, topic) => retried(cluster, options.logger, async () => {
      const [described] = await knownTopics(cluster, [topic]);
      const coordinator = await cluster.getCoordinator('GROUP', groupId);
      const response = await coordinator.offsetFetch({
        groupId,
        topics: [{ name: topic, partitions: described!.partitions.map((p) => ({ partitionIndex: p.partitionIndex })) }],
        requireStable: false,
      });
      const errorCode = response.errorCode || response.topics.flatMap((t) => t.partitions).find((p) => p.errorCode !== 0)?.errorCode || 0;
      if (errorCode !== 0) {
        if (errorCode === NOT_COORDINATOR) cluster.invalidateCoordinator('GROUP', groupId);
        throw new KafkaProtocolError(errorCode, `committed offsets of ${groupId} on ${topic}`);
      }
      const committed = new Map<number, string>();
      // A partition the group never committed comes back as offset -1.
      for (const p of response.topics.find((t) => t.name === topic)?.partitions ?? []) {
        if (p.committedOffset >= 0n) committed.set(p.partitionIndex, String(p.committedOffset));
      }
      return committed;
    }),
  };
}

/**
 * KafkaJS's admin asks again when a broker gives a transient answer, three times within about
 * two seconds (a group's first coordinator search on a fresh broker, say); so does this one.
 */
async function retried<T>(cluster: Cluster, logger: Logger, attempt: () => Promise<T>): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      const transient = kafkatsTransient(error) ?? (versionsPending(error) ? 'API_VERSIONS_PENDING' : undefined);
      if (tries >= 3 || transient === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** tries));
      // kafkats connects only to brokers its cached metadata lists: one that was down when it was
      // read stays "not available" (for up to 5 minutes) after it came back and leads again. A
      // metadata answer for no topic lists every broker and leaves the cached topics as they are.
      if (transient === 'BROKER_NOT_AVAILABLE') await cluster.refreshMetadata([]).catch(() => {});
      if (transient === 'BROKER_NOT_AVAILABLE' || transient === 'API_VERSIONS_PENDING') await connectBrokers(cluster, logger);
    }
  }
}

/**
 * kafkats hands out a broker whose sockets are open but whose API versions it has not learned
 * yet (its cache checks `isConnected` before the connect in flight): a request made in that
 * window fails (UnsupportedVersionError), as concurrent first requests to a partition's leader
 * do, also to a broker that came back. So each broker is connected one after the other before
 * anything asks them at once, and again before a retry; one that is down is left for later.
 */
async function connectBrokers(cluster: Cluster, logger: Logger): Promise<void> {
  for (const nodeId of cluster.getMetadata()?.brokers.keys() ?? []) {
    await cluster.getBroker(nodeId).catch((error: unknown) => logger.debug(`kafka broker ${nodeId} not reached yet`, { error }));
  }
}

/**
 * Asks a broker for `topics` itself: Cluster.refreshMetadata drops a topic or partition that
 * answers with an error without saying so, which would hide a missing leader or count too few.
 */
export async function metadata(cluster: Cluster, topics: readonly string[]): Promise<responses.MetadataResponse> {
  const broker = await cluster.getAnyBroker();
  return broker.metadata({ topics: topics.map((name) => ({ name })), allowAutoTopicCreation: false });
}

/** The metadata of `topics`, in order, once every one of them and each of their partitions answers without an error. */
export async function knownTopics(cluster: Cluster, topics: readonly string[]): Promise<responses.MetadataTopic[]> {
  const answered = new Map((await metadata(cluster, topics)).topics.map((t) => [t.name, t]));
  return topics.map((name) => {
    const t = answered.get(name);
    if (t === undefined) throw new KafkaProtocolError(UNKNOWN_TOPIC_OR_PARTITION, `metadata of ${name}`);
    const errorCode = t.errorCode || t.partitions.find((p) => p.errorCode !== 0 && p.errorCode !== REPLICA_NOT_AVAILABLE)?.errorCode || 0;
    if (errorCode !== 0) throw new KafkaProtocolError(errorCode, `metadata of ${name}`);
    return t;
  });
}

/** The race above: the broker answered no API versions yet, so kafkats knows none of its ranges. */
function versionsPending(error: unknown): boolean {
  return error instanceof Error && error.name === 'UnsupportedVersionError' && (error as { supportedRange?: unknown }).supportedRange === undefined;
}
