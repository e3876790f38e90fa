import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Kafka, KafkaJSProtocolError, Message, PartitionerArgs, ProducerConfig, RecordMetadata, TopicMessages } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { serdes } from '../../../lib/index.ts';
import type { OutputRecord } from '../../../lib/kafka/client.ts';
import type { Logger } from '../../../lib/runtime/logger.ts';
import { openProducer, partitioner } from '../../../lib/kafka/kafkajs-producer.ts';

const answer = createRequire(import.meta.url)('kafkajs/src/protocol/error.js').createErrorFromCode as (code: number) => KafkaJSProtocolError;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const NOT_ENOUGH_REPLICAS = 19;

type Answer = (request: TopicMessages[], partitionOf: (m: Message) => number) => RecordMetadata[];

/**
 * A KafkaJS stand-in: each producer it makes places records in 2 partitions with the producer's
 * own partitioner, as KafkaJS does, and answers its n-th send with `answers[n]` (over all producers).
 */
function fakeKafka(answers: Answer[]) {
  const sent: { producer: number; request: string[] }[] = [];
  let producers = 0;
  const kafka = {
    producer(config: ProducerConfig) {
      const id = ++producers;
      const partitioner = config.createPartitioner!();
      const partitionOf = (message: Message) => partitioner({ topic: 't', partitionMetadata: [{}, {}], message } as unknown as PartitionerArgs);
      return {
        connect: async () => {},
        disconnect: async () => {},
        async sendBatch({ topicMessages }: { topicMessages: TopicMessages[] }) {
          sent.push({ producer: id, request: topicMessages.flatMap((t) => t.messages.map((m) => `${t.topic}[${partitionOf(m)}]=${String(m.value)}`)) });
          return answers.shift()!(topicMessages, partitionOf);
        },
      };
    },
  } as unknown as Kafka;
  return { kafka, sent };
}

/** Acknowledges every partition the request has records in, or only `only`. */
const acknowledge =
  (only?: number): Answer =>
  (request, partitionOf) =>
    request.flatMap(({ topic, messages }) =>
      [...new Set(messages.map(partitionOf))]
        .filter((p) => only === undefined || p === only)
        .map((partition) => ({ topicName: topic, partition, errorCode: 0, baseOffset: '0' })),
    );
const fail =
  (code: number): Answer =>
  () => {
    throw answer(code);
  };

const warnings = (): Logger & { lines: string[] } => {
  const lines: string[] = [];
  return { lines, error: () => {}, info: () => {}, debug: () => {}, warn: (m) => void lines.push(m) };
};

const records = (): Map<string, OutputRecord[]> =>
  new Map([['t', [0, 1, 0, 1].map((partition, i) => ({ partition, key: null, value: Buffer.from(`v${i}`) }))]]);

describe('the runtime producer', () => {
  it('sends again the records of a partition that a send resolved without acknowledging (a retry after a leader moved)', async () => {
    const { kafka, sent } = fakeKafka([acknowledge(0), acknowledge()]);
    const logger = warnings();
    const producer = await openProducer(kafka, logger);
    const acks = await producer.send(records());
    expect(sent).toEqual([
      { producer: 1, request: ['t[0]=v0', 't[1]=v1', 't[0]=v2', 't[1]=v3'] },
      { producer: 1, request: ['t[1]=v1', 't[1]=v3'] },
    ]);
    expect(acks.map((a) => a.partition)).toEqual([0, 1]);
    expect(logger.lines).toEqual(['2 record(s) to t were not sent after a leader moved; sending them again']);
  });

  it('replaces a producer whose sequence numbers the broker refuses, and sends the request again with the new one', async () => {
    const { kafka, sent } = fakeKafka([fail(OUT_OF_ORDER_SEQUENCE_NUMBER), acknowledge(), acknowledge()]);
    const producer = await openProducer(kafka, warnings());
    await producer.send(records());
    await producer.send(records());
    expect(sent.map((s) => s.producer)).toEqual([1, 2, 2]);
    expect(sent[1]!.request).toEqual(sent[0]!.request);
  });

  it('passes on any other error', async () => {
    const { kafka } = fakeKafka([fail(NOT_ENOUGH_REPLICAS)]);
    const producer = await openProducer(kafka, warnings());
    await expect(producer.send(records())).rejects.toMatchObject({ type: 'NOT_ENOUGH_REPLICAS' });
  });
});

/** What Kafka Streams' WindowedStreamPartitioner picks for windows of each key (test/partitions/generate.sh). */
interface Expected {
  readonly serde: 'string' | 'json';
  readonly key: unknown;
  readonly partitions: Readonly<Record<string, number>>;
}
const expected = JSON.parse(readFileSync(new URL('../../partitions/expected.json', import.meta.url), 'utf8')) as Expected[];

/** The partition `partitioner()` picks for a record among `count` partitions. */
function choose(count: number, message: { key: Buffer | null; partitionKey?: Buffer; partition?: number }): number {
  const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 1, replicas: [1], isr: [1] }));
  return partitioner()({ topic: 'output', partitionMetadata, message: { value: null, ...message } });
}

describe('partitioner()', () => {
  const windowOf = (key: unknown, start: number) => serdes.json().serialize({ key, start, end: start + 10_000 });

  it("puts every window of a key where Kafka Streams' windowed partitioner does: by the inner key's bytes", () => {
    expect(expected.length).toBeGreaterThan(30);
    for (const { serde, key, partitions } of expected) {
      const inner = (serde === 'string' ? serdes.string : serdes.json()).serialize(key as never);
      const counts = Object.keys(partitions).map(Number);
      const chosen = counts.map((count) => [0, 1_800_000_000_000].map((start) => choose(count, { key: windowOf(key, start), partitionKey: inner })));
      expect({ key, chosen }).toEqual({ key, chosen: counts.map((count) => [partitions[count], partitions[count]]) });
    }
  });

  it('chooses by the key without a partition key, and takes a partition that is set', () => {
    // A plain key's bytes go through the same murmur2: a string key lands where its windows do.
    for (const { key, partitions } of expected.filter((e) => e.serde === 'string')) {
      expect(choose(4, { key: serdes.string.serialize(key as string) })).toBe(partitions['4']);
    }
    expect(choose(4, { key: Buffer.from('a'), partitionKey: Buffer.from('b'), partition: 3 })).toBe(3);
  });
});
