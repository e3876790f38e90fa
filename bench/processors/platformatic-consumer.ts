import { benchSettings, commitEnds, fail, runProcessor, signalReady, stopOnSignal } from './common.ts';
import { consumeInBatches } from './platformatic-batches.ts';

/**
 * Ceiling: how fast @platformatic/kafka alone reads BENCH_INPUT as group BENCH_GROUP, doing
 * nothing with the records but committing each batch's offsets before taking the next.
 */

// Its stream hands over records one by one; a batch is what arrived during the last commit.
const maxBatch = 10_000;
const pauseAt = 50_000;

runProcessor(async () => {
  const settings = benchSettings();
  const { env } = settings;
  const { consumer, stream, queue } = await consumeInBatches('bench-platformatic-consumer', settings, maxBatch, pauseAt);

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
