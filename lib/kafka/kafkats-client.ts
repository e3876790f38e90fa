import { Cluster, type Logger as KafkatsLogger } from '@kafkats/client';
import type { Logger } from '../runtime/logger.ts';
import type { GroupMembership, StreamClient } from './client.ts';
import type { KafkaClientOptions } from './kafkajs-client.ts';
import { kafkatsAdmin } from './kafkats-admin.ts';
import { kafkatsChangelogReader } from './kafkats-changelog.ts';
import { kafkatsConsumer } from './kafkats-consumer.ts';
import { kafkatsTransient } from './kafkats-errors.ts';
import { openKafkatsProducer } from './kafkats-producer.ts';
import { openKafkatsTransactionalProducer } from './kafkats-transactional-producer.ts';
import { partitionOfKey } from './murmur2.ts';
import { noSecurity, type SaslOptions } from './security.ts';

/**
 * Tasks whose batches are processed at once: while one waits for its outputs' acknowledgements
 * and its commit, the other uses the CPU. Measured with the bench's windowed topology: one at a
 * time ran at 54k/s where four ran at 76k/s (one run, on a loaded machine); on a quiet one, two
 * ran at 116k/s and four at 106k/s with 70 MB more (1M events, medians of 3).
 */
const TASKS_AT_ONCE = 2;

/**
 * The client on @kafkats/client 0.12.0: its protocol layer, its admin and producer, and a
 * consumer group member of ours (kafkats-consumer.ts says why). One connection pool for all.
 */
export function createKafkatsClient(options: KafkaClientOptions): StreamClient {
  const security = options.security ?? noSecurity;
  // One pool for every consumer, producer and admin request: all connect with these.
  const cluster = new Cluster({
    brokers: [...options.brokers],
    clientId: options.clientId,
    connectionTimeoutMs: 3000,
    logger: forwardLogs(options.logger),
    ...(security.ssl === undefined ? {} : { tls: { enabled: true, ...security.ssl } }),
    ...(security.sasl === undefined ? {} : { sasl: kafkatsSasl(security.sasl) }),
  });
  const admin = kafkatsAdmin(cluster, { ...options, security });
  let connecting: Promise<void> | undefined;
  // Once, for every part; a failed try is forgotten so the next one starts afresh.
  const connect = () =>
    (connecting ??= admin.connect().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    }));
  const consumer = (groupId: string, membership: GroupMembership | undefined) =>
    kafkatsConsumer({
        cluster,
        groupId,
        membership,
        logger: options.logger,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
        maxWaitMs: options.maxWaitTimeMs ?? 500,
        tasksAtOnce: TASKS_AT_ONCE,
        connect,
      });
  return {
    ...admin,
    connect,
    async producer() {
      await connect();
      return openKafkatsProducer(cluster, options.logger);
    },
    async changelogReader() {
      await connect();
      return kafkatsChangelogReader(cluster);
    },
    consumer,
    transactions: {
      async producer(transactionalId, timeoutMs) {
        await connect();
        return openKafkatsTransactionalProducer(cluster, transactionalId, options.logger, timeoutMs);
      },
      consumer,
    },
    transient: kafkatsTransient,
    partitionOf: partitionOfKey,
    close: () => cluster.disconnect(),
  };
}

/** kafkats does not export its SaslConfig type. */
type KafkatsSasl = NonNullable<ConstructorParameters<typeof Cluster>[0]['sasl']>;

/** kafkats names the mechanisms as Kafka does, in capitals; it has all three of ours. */
function kafkatsSasl({ mechanism, username, password }: SaslOptions): KafkatsSasl {
  switch (mechanism) {
    case 'plain':
      return { mechanism: 'PLAIN', username, password };
    case 'scram-sha-256':
      return { mechanism: 'SCRAM-SHA-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'SCRAM-SHA-512', username, password };
  }
}

/**
 * Debug only: it logs at error what it then retries (a broker that refused a connection); what
 * gives up reaches our own handling, which says so once.
 */
function forwardLogs(logger: Logger): KafkatsLogger {
  const forward: KafkatsLogger = {
    error: (message, context) => logger.debug(`kafkats: ${message}`, context),
    warn: (message, context) => logger.debug(`kafkats: ${message}`, context),
    info: (message, context) => logger.debug(`kafkats: ${message}`, context),
    debug: () => {},
    child: () => forward,
  };
  return forward;
}
