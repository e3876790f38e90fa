import { benchSettings, fail, runProcessor, signalReady, stopOnSignal } from './common.ts';
import { commitBatch, kafkatsClient, kafkatsConsumerOptions, kafkatsRunOptions } from './kafkats-client.ts';

/**
 * Ceiling: how fast @kafkats/client alone reads BENCH_INPUT as group BENCH_GROUP, doing nothing
 * with the records but committing each batch's offsets before taking the next.
 */

runProcessor(async () => {
  const settings = benchSettings();
  const client = kafkatsClient('bench-kafkats-consumer', settings);
  // The consumer finds its coordinator through the client's brokers: it does not connect them itself.
  await client.connect();
  const consumer = client.consumer({ groupId: settings.env.BENCH_GROUP, ...kafkatsConsumerOptions });
  // Emitted once the group is joined and the assignment known.
  consumer.once('running', signalReady);
  const run = consumer.runBatch(settings.env.BENCH_INPUT, (_, ctx) => commitBatch(client, ctx), kafkatsRunOptions);
  run.catch(fail);
  // stop() lets the batches in hand finish their commits before leaving the group.
  stopOnSignal(async () => {
    consumer.stop();
    await run;
    await client.disconnect();
  });
});
