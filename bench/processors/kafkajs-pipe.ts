// Before kafkajs, as in streamrun: the same linear grouping of a send's messages, so the raw
// client is measured at its best and the ratio shows streamrun's own overhead.
import '../../lib/kafka/kafkajs-grouping.ts';
import { Kafka, Partitioners, logLevel, type Message } from 'kafkajs';
import { statelessStep, type BenchEvent } from '../lib/events.ts';
import { benchSettings, runProcessor, signalReady, stopOnSignal } from './common.ts';

/**
 * The limit streamrun works toward: the stateless scenario written straight on KafkaJS with
 * streamrun's at-least-once order per batch: transform, one send to BENCH_OUTPUT acked by all
 * replicas, then commit the batch. A crash can repeat a batch but never lose one.
 */

runProcessor(async () => {
  const { env, brokers } = benchSettings();
  // Logs below WARN go to stdout, where the harness reads `ready`.
  const kafka = new Kafka({ clientId: 'bench-kafkajs-pipe', brokers, logLevel: logLevel.WARN });
  // What streamrun's producer uses: idempotent, so a retried send cannot duplicate, and
  // KafkaJS then allows one request in flight.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer = kafka.consumer({
    groupId: env.BENCH_GROUP,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 500,
    // A batch comes from one input partition and, keys and partition count being the same,
    // goes whole to one output partition. KafkaJS groups a send's messages by partition in
    // time quadratic in their number, so 256 KB batches (~1,200 events) ran ~10 % faster than
    // the default 1 MB, and stay far below the broker's 1 MB limit per record batch.
    maxBytesPerPartition: 256 * 1024,
  });
  let ready = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (ready) return;
    ready = true;
    signalReady();
  });
  // The consumer first: disconnect lets the batch in hand finish its send and commit.
  stopOnSignal(async () => {
    await consumer.disconnect();
    await producer.disconnect();
  });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: env.BENCH_INPUT, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      const messages: Message[] = [];
      for (const record of batch.messages) {
        if (record.value === null) continue;
        const out = statelessStep(JSON.parse(record.value.toString()) as BenchEvent);
        // The input's timestamp goes on, as streamrun and Kafka Streams do: latency is measured from it.
        if (out !== null) messages.push({ key: record.key, value: JSON.stringify(out), timestamp: record.timestamp });
      }
      // A batch that keeps nothing still commits, or the group would never reach the end.
      if (messages.length > 0) await producer.send({ topic: env.BENCH_OUTPUT, acks: -1, messages });
      const last = batch.lastOffset();
      resolveOffset(last);
      await commitOffsetsIfNecessary({
        topics: [
          { topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] },
        ],
      });
    },
  });
});
