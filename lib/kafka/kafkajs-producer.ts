import { Partitioners, type Kafka, type Message, type PartitionerArgs, type Producer, type RecordMetadata, type TopicMessages } from 'kafkajs';
import type { OutputProducer, OutputRecord, ProducedOffset } from './client.ts';
import type { Logger } from '../runtime/logger.ts';
import { partitionOfKey } from './murmur2.ts';
import { maxRequestBytes, recordSize } from './record-size.ts';

/**
 * The runtime's producer, made to outlast a broker's loss. KafkaJS 2.2.4 fails there in two ways.
 * A send retried after a leader moved skips the partitions whose new leader had answered the
 * first try: their records are never sent, yet the send resolves (tulios/kafkajs#1303). And its
 * idempotent producer takes back the sequence numbers of a request whose answer was lost, even
 * when the broker wrote it: every later send to that partition fails with
 * OUT_OF_ORDER_SEQUENCE_NUMBER, for good. So each request's acknowledgements are checked against
 * the partitions its records went to, and what is missing is sent again; and a producer whose
 * sequence numbers went wrong is replaced by a new one (a new producer id), which sends the
 * request again. Records may be written twice, as anywhere in at-least-once; none is lost.
 */
export async function openProducer(kafka: Kafka, logger: Logger): Promise<OutputProducer> {
  // Where KafkaJS's partitioner put each record, to tell which ones have no acknowledgement.
  const placed = new WeakMap<Message, number>();
  const connect = async (): Promise<Producer> => {
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // An idempotent producer keeps retrying rather than drop a record; a broker that stays
      // away shows up as a stalled task and, at shutdown, as SHUTDOWN_TIMEOUT.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5000 },
      allowAutoTopicCreation: false,
      createPartitioner: () => {
        const choose = partitioner();
        return (args) => {
          const partition = choose(args);
          placed.set(args.message, partition);
          return partition;
        };
      },
    });
    await producer.connect().catch(async (error: unknown) => {
      // Whatever it did connect goes, so the caller can try again with a new one.
      await producer.disconnect().catch(() => {});
      throw error;
    });
    return producer;
  };
  let producer = await connect();
  return {
    async send(records) {
      const acks: ProducedOffset[] = [];
      // One after the other: each partition's records stay in order, and its first ack
      // (the one a changelog checkpoint counts from) comes first.
      for (const request of requests(records)) {
        let pending = request;
        while (pending.length > 0) {
          let answers: RecordMetadata[];
          try {
            answers = await producer.sendBatch({ acks: -1, topicMessages: pending });
          } catch (error) {
            if (!lostSequence(error)) throw error;
            logger.warn(`the producer lost its sequence numbers after a broker failed; sending with a new producer`);
            const broken = producer;
            producer = await connect();
            await broken.disconnect().catch(() => {});
            continue;
          }
          for (const a of answers) acks.push({ topic: a.topicName, partition: a.partition, baseOffset: a.baseOffset ?? '-1' });
          pending = unanswered(pending, answers, placed);
          for (const { topic, messages } of pending) {
            logger.warn(`${messages.length} record(s) to ${topic} were not sent after a leader moved; sending them again`);
          }
        }
      }
      return acks;
    },
    close: () => producer.disconnect(),
  };
}

/** The records of `request` in partitions that `answers` do not acknowledge. */
function unanswered(request: readonly TopicMessages[], answers: readonly RecordMetadata[], placed: WeakMap<Message, number>): TopicMessages[] {
  const acknowledged = new Set(answers.map((a) => `${a.topicName}:${a.partition}`));
  return request
    .map(({ topic, messages }) => ({ topic, messages: messages.filter((m) => !acknowledged.has(`${topic}:${placed.get(m)}`)) }))
    .filter(({ messages }) => messages.length > 0);
}

/** Whether `error` is a broker's answer that the producer's sequence numbers (or its id) no longer hold. */
function lostSequence(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const { type } = e as { type?: unknown };
    if (type === 'OUT_OF_ORDER_SEQUENCE_NUMBER' || type === 'UNKNOWN_PRODUCER_ID' || type === 'INVALID_PRODUCER_EPOCH') return true;
  }
  return false;
}

/**
 * KafkaJS's default partitioner (murmur2 over every partition, as Kafka's Java client), choosing
 * from a record's `partitionKey` instead of its key when it has one; keys are hashed with our
 * murmur2, 25 times faster than KafkaJS's, and records without a key go round-robin as KafkaJS
 * sends them.
 */
export function partitioner(): (args: PartitionerArgs) => number {
  const roundRobin = Partitioners.DefaultPartitioner();
  return (args) => {
    const { partition, partitionKey, key } = args.message as OutputRecord;
    if (typeof partition === 'number') return partition;
    const bytes = partitionKey ?? key;
    return bytes === null || bytes === undefined ? roundRobin(args) : partitionOfKey(bytes, args.partitionMetadata.length);
  };
}

/** A send cut into requests of at most `maxRequestBytes` (see record-size.ts), in order. */
function* requests(records: ReadonlyMap<string, readonly OutputRecord[]>): Generator<TopicMessages[]> {
  let request = new Map<string, Message[]>();
  let bytes = 0;
  for (const [topic, messages] of records) {
    for (const message of messages) {
      const size = recordSize(message);
      if (bytes + size > maxRequestBytes && bytes > 0) {
        yield toTopicMessages(request);
        request = new Map();
        bytes = 0;
      }
      let lane = request.get(topic);
      if (lane === undefined) request.set(topic, (lane = []));
      // Our records have KafkaJS's message shape; only the readonly marks differ.
      lane.push(message as Message);
      bytes += size;
    }
  }
  if (bytes > 0) yield toTopicMessages(request);
}

function toTopicMessages(request: ReadonlyMap<string, Message[]>): TopicMessages[] {
  return [...request].map(([topic, messages]) => ({ topic, messages }));
}
