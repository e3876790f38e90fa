import { Producer, type Cluster, type SendResult } from '@kafkats/client';
import type { Logger } from '../runtime/logger.ts';
import type { TransactionalProducer } from './client.ts';
import { kafkatsRetries, layoutCache, leaderWatch, placed, sendRounds } from './kafkats-producer.ts';

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
 * than `timeoutMs`, as the broker does; `commit` then rejects.
 */
export async function openKafkatsTransactionalProducer(
  cluster: Cluster,
  transactionalId: string,
  logger: Logger,
  timeoutMs = 60_000,
): Promise<TransactionalProducer> {
  const layouts = layoutCache(cluster);
  const producer = new Producer(cluster, { transactionalId, transactionTimeoutMs: timeoutMs, acks: 'all', lingerMs: 0, ...kafkatsRetries });
  // kafkats initializes on the first transaction; now, so an earlier producer with this id (the
  // process before a crash) is fenced and its open transaction aborted before anything reads
  // past it. The method is private in kafkats's types only.
  await (producer as unknown as { ensureInitialized(): Promise<void> }).ensureInitialized();
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
        consumerGroupMetadata: { ...group, groupInstanceId: null },
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
