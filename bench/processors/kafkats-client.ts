import { KafkaClient, createKafkaError, type ConsumeContext, type ConsumerConfig, type ProducerConfig, type RunBatchOptions } from '@kafkats/client';
import type { FlowApp, FlowConfig } from '@kafkats/flow';
import { lmdb } from '@kafkats/flow-state-lmdb';
import { fail, signalReady, stopOnSignal, type BenchSettings } from './common.ts';

/** What the @kafkats/client ceilings and the @kafkats/flow scenarios share. */

export function kafkatsClient(clientId: string, { brokers }: BenchSettings): KafkaClient {
  // Its logger writes warnings to stdout too; the harness only looks for `ready` alone on a line.
  return new KafkaClient({ clientId, brokers, logLevel: 'warn' });
}

/** acks=all, no compression, and its murmur2 partitioner, which masks the sign bit as Java and KafkaJS do. */
export const kafkatsProducerOptions: ProducerConfig = {
  acks: 'all',
  compression: 'none',
  partitioner: 'murmur2',
  // maxBatchBytes is left alone: a send()'s records for one partition always go as one record
  // batch, whatever it says (a 1.3 MB one was refused as MessageTooLarge), which is what the
  // 2,000-event sends here want; the pipe cuts its sends itself.
  // Flow awaits each record's send before the partition's next record: the default 5 ms
  // linger would hold every record that long (a multi-record send goes out at once either way).
  lingerMs: 0,
};

/** From the group's committed offsets, else the start, as `fromBeginning` does in KafkaJS. */
export const kafkatsConsumerOptions: Omit<ConsumerConfig, 'groupId'> = {
  // Its default is 'latest': a fresh group would skip the pre-filled input.
  autoOffsetReset: 'earliest',
  // Bounds how long a stop waits on an idle fetch (default 5 s); under load fetches return at once.
  maxWaitMs: 500,
  // As the KafkaJS pipe's fetches. It also sizes the prefetch buffer (10×): with the default
  // 1 MiB a 200,000-event pipe ran no faster and its latency p50 was 1.4 s instead of 0.4 s.
  maxBytesPerPartition: 256 * 1024,
  // A poll hands over at most maxRecords across all partitions (default 500) and keeps the rest
  // of a fetch it cuts for the next poll, but behind that partition's newer fetches
  // (FetchBuffer.drain pushes the cut one at the end of its queue): a partition's records then
  // come out of order, and the batch's last offset, the one committed, is not its highest (a
  // 200,000-event run delivered 15,552–18,551 before 15,064–15,551 and committed short of
  // the end). More than its buffer (10 × maxBytesPerPartition) can ever hold never cuts.
  maxRecords: 1_000_000,
};

/**
 * Its own commits are off: they run on a timer, and one that is in flight when a batch's offset
 * is marked drops that offset once it succeeds (OffsetManager.commitPendingOffsets deletes the
 * partition's entry whatever was marked meanwhile), so a partition's last batch can stay
 * uncommitted for good: with 5 ms commits, all 200,000 events delivered in order, the group
 * stopped at 197,794 (two partitions short) in one run of two. The processors commit each
 * batch themselves instead (commitBatch), as the KafkaJS ones do.
 */
export const kafkatsRunOptions: RunBatchOptions = {
  // The input's 6 partitions all at once: a batch in hand per partition.
  partitionConcurrency: 6,
  commitOffsets: false,
};

/**
 * Commits the offset after a batch's last record, in the group generation that delivered it,
 * through the client's own coordinator connection: the consumer has no public commit call
 * (its docs: "the public consumer API currently focuses on automatic commits").
 */
export async function commitBatch(client: KafkaClient, ctx: ConsumeContext): Promise<void> {
  const member = ctx.consumerGroupMetadata;
  if (member === undefined) throw new Error('bench processor: a batch without group membership');
  const coordinator = await client.cluster.getCoordinator('GROUP', member.groupId);
  const response = await coordinator.offsetCommit({
    groupId: member.groupId,
    generationId: member.generationId,
    memberId: member.memberId,
    groupInstanceId: member.groupInstanceId ?? null,
    // A committed offset names the next record to read, hence last + 1.
    topics: [{ name: ctx.topic, partitions: [{ partitionIndex: ctx.partition, committedOffset: ctx.offset + 1n }] }],
  });
  for (const topic of response.topics) {
    for (const partition of topic.partitions) if (partition.errorCode !== 0) throw createKafkaError(partition.errorCode, `commit of ${topic.name}-${partition.partitionIndex}`);
  }
}

/**
 * An @kafkats/flow app at its best for the bench: at-least-once, every input partition handled
 * at once, state in LMDB under BENCH_STATE_DIR, an idempotent producer as streamrun's.
 */
export function flowConfig(settings: BenchSettings): FlowConfig {
  return {
    applicationId: settings.env.BENCH_GROUP,
    client: kafkatsClient('bench-kafkats-flow', settings),
    processingGuarantee: 'at_least_once',
    stateStoreProvider: lmdb({ stateDir: settings.env.BENCH_STATE_DIR }),
    consumer: kafkatsConsumerOptions,
    producer: { ...kafkatsProducerOptions, idempotent: true },
    // It hands records over one at a time (runEach), so partitions at once are its parallelism:
    // 1, 3 and 6 ran stateless at 6,800, 12,700 and 15,200 events/s. A second stream thread
    // (numStreamThreads: 2) did not start: "Consumer did not start within 10000ms".
    runEach: {
      partitionConcurrency: kafkatsRunOptions.partitionConcurrency,
      // Flow commits only through the consumer's timer, whose race (see kafkatsRunOptions) can
      // leave a partition's last records uncommitted: once a second (default 5) makes that rare
      // (a commit is in flight ~1 % of the time) and shifts both ends of the timed span alike.
      autoCommitIntervalMs: 1000,
    },
  };
}

/** Starts the app, says `ready` once its consumers joined the group, closes it on SIGTERM. */
export async function runFlow(app: FlowApp): Promise<void> {
  stopOnSignal(() => app.close());
  await app.start();
  signalReady();
  // A failing worker only sets the state: without this the run would stall until the harness times out.
  setInterval(() => {
    if (app.state() === 'ERROR') fail(new Error('@kafkats/flow stopped on an error'));
  }, 500).unref();
}
