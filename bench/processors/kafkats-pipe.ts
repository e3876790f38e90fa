import type { ProducerMessage } from '@kafkats/client';
import { statelessStep, type BenchEvent } from '../lib/events.ts';
import { benchSettings, fail, runProcessor, signalReady, stopOnSignal } from './common.ts';
import { commitBatch, kafkatsClient, kafkatsConsumerOptions, kafkatsProducerOptions, kafkatsRunOptions } from './kafkats-client.ts';

/**
 * The stateless scenario written straight on @kafkats/client with streamrun's at-least-once
 * order per batch: transform, one send to BENCH_OUTPUT acked by all replicas, then commit the
 * batch. A crash can repeat a batch but never lose one.
 */

// A batch read from one input partition goes to one output partition (same keys, same
// partition count), and the client makes each send's records for a partition one record batch:
// 3,000 transformed events (~700 KB) stay under the broker's 1 MiB limit for one.
const maxPerSend = 3000;

runProcessor(async () => {
  const settings = benchSettings();
  const { env } = settings;
  const client = kafkatsClient('bench-kafkats-pipe', settings);
  // As streamrun's producer: a retried send cannot duplicate.
  const producer = client.producer({ ...kafkatsProducerOptions, idempotent: true });
  await client.connect();
  await client.getMetadata([env.BENCH_OUTPUT]);
  const consumer = client.consumer({ groupId: env.BENCH_GROUP, ...kafkatsConsumerOptions });
  consumer.once('running', signalReady);
  const run = consumer.runBatch(
    env.BENCH_INPUT,
    async (batch, ctx) => {
      const out: ProducerMessage<Buffer, Buffer>[] = [];
      for (const record of batch) {
        const kept = statelessStep(JSON.parse(record.value.toString()) as BenchEvent);
        // The input's timestamp goes on, as streamrun and Kafka Streams do: latency is measured from it.
        if (kept !== null) out.push({ key: record.key, value: Buffer.from(JSON.stringify(kept)), timestamp: new Date(Number(record.timestamp)) });
      }
      // In order on the partition; a batch that keeps nothing still commits, or the group would never reach the end.
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < out.length; i += maxPerSend) sends.push(producer.send(env.BENCH_OUTPUT, out.slice(i, i + maxPerSend)));
      await Promise.all(sends);
      await commitBatch(client, ctx);
    },
    kafkatsRunOptions,
  );
  run.catch(fail);
  // The consumer first: stop() lets the batches in hand finish their sends and commits.
  stopOnSignal(async () => {
    consumer.stop();
    await run;
    await producer.disconnect();
    await client.disconnect();
  });
});
