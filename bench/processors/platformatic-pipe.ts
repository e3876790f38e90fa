import { Producer, compatibilityPartitioner, stringSerializer, type MessageToProduce } from '@platformatic/kafka';
import { statelessStep, type BenchEvent } from '../lib/events.ts';
import { benchSettings, commitEnds, fail, runProcessor, signalReady, stopOnSignal } from './common.ts';
import { consumeInBatches } from './platformatic-batches.ts';

/**
 * The stateless scenario written straight on @platformatic/kafka with streamrun's
 * at-least-once order per batch: transform, one send to BENCH_OUTPUT acked by all replicas,
 * then commit the batch. A crash can repeat a batch but never lose one.
 */

// Its stream hands over records one by one; a batch is what arrived during the last send and
// commit, capped so that one send stays under the broker's 1 MB limit per record batch: the
// output keeps the input's keys and partition count, so a batch read from one input partition
// goes whole to one output partition (4,000 events of ~215 bytes ≈ 860 KB even if all kept).
const maxBatch = 4000;
const pauseAt = 50_000;

runProcessor(async () => {
  const settings = benchSettings();
  const { env, brokers } = settings;
  const producer = new Producer<Buffer, string, Buffer, Buffer>({
    clientId: 'bench-platformatic-pipe',
    bootstrapBrokers: brokers,
    serializers: { value: stringSerializer },
    // Forces acks=all and one request in flight, like streamrun's KafkaJS producer.
    idempotent: true,
    compression: 'none',
    // Its default partitioner reads murmur2 as unsigned; Java and KafkaJS mask the sign bit,
    // so without this a key would land on another partition than streamrun puts it on.
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
  });
  // The producer id and the output's metadata up front, so the first batch pays for neither.
  await producer.initIdempotentProducer({});
  await producer.metadata({ topics: [env.BENCH_OUTPUT] });
  const { consumer, stream, queue } = await consumeInBatches('bench-platformatic-pipe', settings, maxBatch, pauseAt);

  const work = (async () => {
    for (let batch = await queue.next(); batch !== null; batch = await queue.next()) {
      const out: MessageToProduce<Buffer, string, Buffer, Buffer>[] = [];
      const ends = new Map<number, bigint>();
      for (const record of batch) {
        ends.set(record.partition, record.offset);
        // The client's default deserializer passes a null value on as undefined.
        if (record.value === undefined) continue;
        const kept = statelessStep(JSON.parse(record.value.toString()) as BenchEvent);
        // The input's timestamp goes on, as streamrun and Kafka Streams do: latency is measured from it.
        if (kept !== null) out.push({ topic: env.BENCH_OUTPUT, key: record.key, value: JSON.stringify(kept), timestamp: record.timestamp });
      }
      // A batch that keeps nothing still commits, or the group would never reach the end.
      if (out.length > 0) await producer.send({ messages: out });
      await commitEnds(consumer, env.BENCH_INPUT, ends);
    }
  })();
  work.catch(fail);

  // Ends the batch in hand (send, then commit) before leaving the group.
  stopOnSignal(async () => {
    queue.close();
    await work;
    await stream.close();
    await consumer.close();
    await producer.close();
  });
  signalReady();
});
