// Before kafkajs, as in streamrun: the same linear grouping of a send's messages, so the raw
// client is measured at its best and the ratio shows streamrun's own overhead.
import '../../lib/kafka/kafkajs-grouping.ts';
import { CompressionTypes, Kafka, Partitioners, logLevel, type Message } from 'kafkajs';
import { benchEvent } from '../lib/events.ts';
import { benchSettings, inParallelBatches, runProcessor, signalReady } from './common.ts';

/**
 * Ceiling: how fast KafkaJS alone fills BENCH_INPUT with BENCH_EVENTS events (acks=all, no
 * compression, the Java-compatible murmur2 partitioner).
 */

// Measured on the local broker with 500k events: the client, not the broker, is the limit
// (one core busy, the broker at ~0.1 core), and 1,000–3,000 per send with 2–8 in flight all
// land within noise of each other; 5,000–10,000 per send are slower, because KafkaJS groups a
// send's messages by partition in time quadratic in their number. The same 2,000 × 4 as the
// @platformatic/kafka producer, so the two ceilings differ only in the client.
const batchSize = 2000;
const inFlight = 4;

runProcessor(async () => {
  const { env, brokers, events } = benchSettings();
  // Logs below WARN go to stdout, where the harness reads `ready`.
  const kafka = new Kafka({ clientId: 'bench-kafkajs-producer', brokers, logLevel: logLevel.WARN });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  signalReady();
  await inParallelBatches(events, batchSize, inFlight, async (from, to) => {
    const messages: Message[] = [];
    for (let i = from; i < to; i++) messages.push(benchEvent(i, Date.now()));
    await producer.send({ topic: env.BENCH_INPUT, messages, acks: -1, compression: CompressionTypes.None });
  });
  await producer.disconnect();
});
