import { Producer, type Cluster, type ConsumerGroupMetadata, type SendResult } from '@kafkats/client';
import type { Logger } from '../runtime/logger.ts';
import type { OutputRecord, ProducedOffset, TopicPartitionOffset } from './client.ts';
import { kafkatsRetries, layoutCache, leaderWatch, placed, sendRounds } from './kafkats-producer.ts';

/** A producer whose sends, and the input offsets they came from, count all together or not at all. */
export interface TransactionalProducer {
  /** Opens a transaction; one at a time. */
  begin(): Promise<void>;
  /** As OutputProducer.send, inside the open transaction: read_committed readers see the records only once it commits. */
  send(records: ReadonlyMap<string, readonly OutputRecord[]>): Promise<ProducedOffset[]>;
  /**
   * Commits `offsets` for the group with the transaction (KIP-447): the group's coordinator
   * refuses them when `group`'s generation is no longer current, so a member that lost its
   * partitions to a rebalance cannot commit over the one that has them now.
   */
  sendOffsets(offsets: readonly TopicPartitionOffset[], group: ConsumerGroupMetadata): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  close(): Promise<void>;
}

/** What kafkats hands its transaction callback; its type is not exported. */
type ProducerTransaction = Parameters<Parameters<Producer['transaction']>[0]>[0];

interface Open {
  readonly tx: ProducerTransaction;
  /** Settles kafkats's transaction callback: resolved, it commits; rejected, it aborts. */
  readonly finish: { resolve(): void; reject(reason: Error): void };
  /** kafkats's transaction(), settled once it committed or aborted. */
  readonly ended: Promise<void>;
}

/**
 * kafkats runs a transaction as a callback, committed when it resolves and aborted when it
 * throws. The runtime opens and ends transactions from the outside, so the callback is held open
 * until `commit` or `abort` settles it. kafkats aborts on its own a transaction open for longer
 * than its timeout (60 s); `commit` then rejects.
 */
export async function openKafkatsTransactionalProducer(cluster: Cluster, transactionalId: string, logger: Logger): Promise<TransactionalProducer> {
  const layouts = layoutCache(cluster);
  const producer = new Producer(cluster, { transactionalId, acks: 'all', lingerMs: 0, ...kafkatsRetries });
  let open: Open | undefined;
  const current = (): Open => {
    if (open === undefined) throw new Error(`no transaction is open on ${transactionalId}`);
    return open;
  };
  const take = (): Open => {
    const taken = current();
    open = undefined;
    return taken;
  };
  return {
    async begin() {
      if (open !== undefined) throw new Error(`a transaction is open on ${transactionalId} already`);
      let started!: (tx: ProducerTransaction) => void;
      const tx = new Promise<ProducerTransaction>((resolve) => (started = resolve));
      let finish!: Open['finish'];
      const held = new Promise<void>((resolve, reject) => (finish = { resolve, reject }));
      const ended = producer.transaction(async (t) => {
        started(t);
        await held;
      });
      // Seen by commit or abort; until then a rejection is not unhandled.
      ended.catch(() => {});
      // The producer may fail to start a transaction at all (its id fenced, the coordinator away).
      open = { tx: await Promise.race([tx, ended.then(() => Promise.reject(new Error('the transaction ended before it began')))]), finish, ended };
    },
    async send(records) {
      const { tx } = current();
      const rounds = await placed(records, layouts);
      const watchdog = leaderWatch(cluster, [...records.keys()]);
      try {
        // kafkats types one result for both a message and an array; an array gets an array.
        return await sendRounds(rounds, async (topic, messages) => (await tx.send(topic, messages)) as SendResult[]);
      } finally {
        clearInterval(watchdog);
      }
    },
    async sendOffsets(offsets, group) {
      await current().tx.sendOffsets({
        consumerGroupMetadata: group,
        offsets: offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: BigInt(offset) })),
      });
    },
    async commit() {
      const { finish, ended } = take();
      finish.resolve();
      await ended;
    },
    abort,
    async close() {
      if (open !== undefined) {
        logger.warn(`closing ${transactionalId} with a transaction open: it is aborted`);
        await abort();
      }
      await producer.disconnect();
    },
  };

  async function abort(): Promise<void> {
    const { finish, ended } = take();
    const reason = new Error('aborted');
    finish.reject(reason);
    await ended.catch((error: unknown) => {
      // kafkats wraps what the callback threw in a TransactionAbortedError (not exported) once it aborted.
      if (!(error instanceof Error && error.name === 'TransactionAbortedError' && error.cause === reason)) throw error;
    });
  }
}
