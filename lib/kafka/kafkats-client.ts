import { Cluster, type Logger as KafkatsLogger } from '@kafkats/client';
import type { Logger } from '../runtime/logger.ts';
import type { StreamClient } from './client.ts';
import { kafkatsChangelogReader } from './kafkats-changelog.ts';
import { kafkatsConsumer } from './kafkats-consumer.ts';
import { createKafkaClient, type KafkaClientOptions } from './kafkajs-client.ts';

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
