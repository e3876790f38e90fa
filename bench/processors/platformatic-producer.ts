import { ProduceAcks, Producer, compatibilityPartitioner, stringSerializers, type MessageToProduce } from '@platformatic/kafka';
import { benchEvent } from '../lib/events.ts';
import { benchSettings, inParallelBatches, runProcessor, signalReady } from './common.ts';

/**
 * Ceiling: how fast @platformatic/kafka alone fills BENCH_INPUT with BENCH_EVENTS events
 * (acks=all, no compression, the Java-compatible murmur2 partitioner).
 */

// Measured on the local broker with 500k events: the client, not the broker, is the limit
// (one core busy, the broker at ~0.2 core); 2,000–3,000 per send beat 1,000 (more requests)
// and 5,000–10,000 (bigger buffers to build and collect), and 2–8 in flight are alike, so 4
// keeps the connection busy without queueing behind its 5 in-flight requests.
const batchSize = 2000;
const inFlight = 4;

runProcessor(async () => {
  const { env, brokers, events } = benchSettings();
  const producer = new Producer({
    clientId: 'bench-platformatic-producer',
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    acks: ProduceAcks.ALL,
    compression: 'none',
    // Its default partitioner reads murmur2 as unsigned; Java and KafkaJS mask the sign bit,
    // so without this the same key would land on another partition than theirs.
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
  });
  // The client connects lazily; asking for the topic's metadata connects before `ready`.
  await producer.metadata({ topics: [env.BENCH_INPUT] });
  signalReady();
  await inParallelBatches(events, batchSize, inFlight, async (from, to) => {
    const messages: MessageToProduce<string, string, string, string>[] = [];
    for (let i = from; i < to; i++) messages.push({ topic: env.BENCH_INPUT, ...benchEvent(i, Date.now()) });
    await producer.send({ messages });
  });
  await producer.close();
});
