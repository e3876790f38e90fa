import { Cluster, type Logger as KafkatsLogger } from '@kafkats/client';
import type { Logger } from '../runtime/logger.ts';
import type { StreamClient } from './client.ts';
import { kafkatsChangelogReader } from './kafkats-changelog.ts';
import { kafkatsConsumer } from './kafkats-consumer.ts';
import { createKafkaClient, type KafkaClientOptions } from './kafkajs-client.ts';

/**
 * Tasks whose batches are processed at once: two keep both cores of a small machine busy while
 * others wait on the broker; more only add memory (measured with the bench's topologies).
 */
const TASKS_AT_ONCE = 4;

/** The client on @kafkats/client (experimental; see the README's dependency notes). */
export function createKafkatsClient(options: KafkaClientOptions): StreamClient {
  const cluster = new Cluster({
    brokers: [...options.brokers],
    clientId: options.clientId,
    connectionTimeoutMs: 3000,
    logger: forwardLogs(options.logger),
  });
  // Until the admin and producer land on this client, they are KafkaJS's.
  const admin = createKafkaClient(options);
  let clusterConnected: Promise<void> | undefined;
  const connected = () => (clusterConnected ??= cluster.connect());
  return {
    ...admin,
    async connect() {
      await admin.connect();
      await connected();
    },
    async producer() {
      // KafkaJS's idempotent producer numbers a request's records when it builds it: two sends to
      // one partition at once would get the same sequence numbers. Tasks now send at once.
      const producer = await admin.producer();
      let tail: Promise<unknown> = Promise.resolve();
      return {
        send(records) {
          const sent = tail.then(() => producer.send(records));
          tail = sent.catch(() => {});
          return sent;
        },
        close: () => producer.close(),
      };
    },
    async changelogReader() {
      await connected();
      return kafkatsChangelogReader(cluster);
    },
    consumer(groupId, membership) {
      return kafkatsConsumer({
        cluster,
        groupId,
        membership,
        logger: options.logger,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
        maxWaitMs: options.maxWaitTimeMs ?? 500,
        tasksAtOnce: TASKS_AT_ONCE,
        connect: connected,
      });
    },
    async close() {
      await admin.close();
      await cluster.disconnect();
    },
  };
}

/** Its protocol chatter goes to debug; what it warns of, to our logger. */
function forwardLogs(logger: Logger): KafkatsLogger {
  const forward: KafkatsLogger = {
    error: (message, context) => logger.warn(`kafkats: ${message}`, context),
    warn: (message, context) => logger.warn(`kafkats: ${message}`, context),
    info: (message, context) => logger.debug(`kafkats: ${message}`, context),
    debug: () => {},
    child: () => forward,
  };
  return forward;
}
