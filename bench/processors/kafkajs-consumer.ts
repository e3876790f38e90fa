import { Kafka, logLevel } from 'kafkajs';
import { benchSettings, runProcessor, signalReady, stopOnSignal } from './common.ts';

/**
 * Ceiling: how fast KafkaJS alone reads BENCH_INPUT as group BENCH_GROUP, doing nothing with
 * the records but committing each batch's offsets before taking the next.
 */

runProcessor(async () => {
  const { env, brokers } = benchSettings();
  // Logs below WARN go to stdout, where the harness reads `ready`.
  const kafka = new Kafka({ clientId: 'bench-kafkajs-consumer', brokers, logLevel: logLevel.WARN });
  const consumer = kafka.consumer({
    groupId: env.BENCH_GROUP,
    allowAutoTopicCreation: false,
    // Bounds how long a stop waits on an idle fetch; under load fetches return at once.
    maxWaitTimeInMs: 500,
  });
  let ready = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (ready) return;
    ready = true;
    signalReady();
  });
  stopOnSignal(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic: env.BENCH_INPUT, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      const last = batch.lastOffset();
      resolveOffset(last);
      // A committed offset names the next record to read, hence last + 1.
      const next = (BigInt(last) + 1n).toString();
      await commitOffsetsIfNecessary({
        topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
      });
    },
  });
});
