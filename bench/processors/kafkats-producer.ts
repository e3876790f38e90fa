import type { ProducerMessage } from '@kafkats/client';
import { benchEvent } from '../lib/events.ts';
import { benchSettings, inParallelBatches, runProcessor, signalReady } from './common.ts';
import { kafkatsClient, kafkatsProducerOptions } from './kafkats-client.ts';

/**
 * Ceiling: how fast @kafkats/client alone fills BENCH_INPUT with BENCH_EVENTS events (acks=all,
 * no compression, the Java-compatible murmur2 partitioner).
 */

// The same 2,000 × 4 as the KafkaJS and @platformatic/kafka producers, so the ceilings differ
// only in the client.
const batchSize = 2000;
const inFlight = 4;

runProcessor(async () => {
  const settings = benchSettings();
  const { env, events } = settings;
  const client = kafkatsClient('bench-kafkats-producer', settings);
  const producer = client.producer(kafkatsProducerOptions);
  await client.connect();
  // The topic's partition count before `ready`, so the first send does not pay for it.
  await client.getMetadata([env.BENCH_INPUT]);
  signalReady();
  await inParallelBatches(events, batchSize, inFlight, async (from, to) => {
    const messages: ProducerMessage<Buffer, string>[] = [];
    for (let i = from; i < to; i++) {
      const { key, value } = benchEvent(i, Date.now());
      messages.push({ key, value: Buffer.from(value) });
    }
    await producer.send(env.BENCH_INPUT, messages);
  });
  await producer.disconnect();
  await client.disconnect();
});
