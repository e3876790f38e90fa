import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, type Message } from '@platformatic/kafka';
import { BatchQueue, fail, type BenchSettings } from './common.ts';

/**
 * Joins group BENCH_GROUP on BENCH_INPUT from its committed offsets (else the start) and hands
 * its records over in batches: the client's stream gives them one by one, a batch is what
 * arrived while the last one was handled, at most `maxBatch`; the stream pauses at `pauseAt`.
 */
export async function consumeInBatches(clientId: string, { env, brokers }: BenchSettings, maxBatch: number, pauseAt: number) {
  const consumer = new Consumer({
    clientId,
    bootstrapBrokers: brokers,
    groupId: env.BENCH_GROUP,
    autocommit: false,
    // Bounds how long a stop waits on an idle fetch (default 5 s); under load fetches return at once.
    maxWaitTime: 500,
  });
  // Resolves once the group is joined and the assignment known.
  const stream = await consumer.consume({
    topics: [env.BENCH_INPUT],
    autocommit: false,
    mode: MessagesStreamModes.COMMITTED,
    fallbackMode: MessagesStreamFallbackModes.EARLIEST,
  });
  const queue = new BatchQueue<Message>({ maxBatch, pauseAt, pause: () => stream.pause(), resume: () => stream.resume() });
  stream.on('error', fail);
  stream.on('data', (message) => queue.push(message));
  return { consumer, stream, queue };
}
