import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, type Message } from '@platformatic/kafka';
import { BatchQueue, benchSettings, commitEnds, fail, runProcessor, signalReady, stopOnSignal } from './common.ts';

/**
 * Ceiling: how fast @platformatic/kafka alone reads BENCH_INPUT as group BENCH_GROUP, doing
 * nothing with the records but committing each batch's offsets before taking the next.
 */

// Its stream hands over records one by one; a batch is what arrived during the last commit.
const maxBatch = 10_000;
const pauseAt = 50_000;

runProcessor(async () => {
  const { env, brokers } = benchSettings();
  const consumer = new Consumer({
    clientId: 'bench-platformatic-consumer',
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
  const queue = new BatchQueue<Message>({
    maxBatch,
    pauseAt,
    pause: () => stream.pause(),
    resume: () => stream.resume(),
  });
  stream.on('error', fail);
  stream.on('data', (message) => queue.push(message));

  const work = (async () => {
    for (let batch = await queue.next(); batch !== null; batch = await queue.next()) {
      const ends = new Map<number, bigint>();
      for (const message of batch) ends.set(message.partition, message.offset);
      await commitEnds(consumer, env.BENCH_INPUT, ends);
    }
  })();
  work.catch(fail);

  stopOnSignal(async () => {
    queue.close();
    await work;
    await stream.close();
    await consumer.close();
  });
  signalReady();
});
