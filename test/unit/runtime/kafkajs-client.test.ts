import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  KafkaJSAggregateError,
  KafkaJSError,
  KafkaJSConnectionError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';
import { serdes } from '../../../lib/index.ts';
import { partitioner, transientAnswer } from '../../../lib/runtime/kafkajs-client.ts';

/** A broker's error answer as KafkaJS raises it: type, text and retriable from KafkaJS's own table. */
const answer = createRequire(import.meta.url)('kafkajs/src/protocol/error.js').createErrorFromCode as (code: number) => KafkaJSProtocolError;

const unknownTopic = () => answer(3);

describe('transientAnswer()', () => {
  it("names each transient broker answer by Kafka's own name", () => {
    const cases: [number, string][] = [
      [3, 'UNKNOWN_TOPIC_OR_PARTITION'],
      [5, 'LEADER_NOT_AVAILABLE'],
      [6, 'NOT_LEADER_OR_FOLLOWER'],
      [7, 'REQUEST_TIMED_OUT'],
      [14, 'COORDINATOR_LOAD_IN_PROGRESS'],
      [15, 'COORDINATOR_NOT_AVAILABLE'],
      [16, 'NOT_COORDINATOR'],
    ];
    expect(cases.map(([code]) => transientAnswer(answer(code)))).toEqual(cases.map(([, name]) => name));
  });

  it("names KafkaJS's connection errors, request time-outs, a broker not connected and a coordinator not found", () => {
    expect(transientAnswer(new KafkaJSConnectionError('Connection timeout', { broker: 'b:9092' }))).toBe('KafkaJSConnectionError');
    const closed = Object.assign(new KafkaJSConnectionError('Closed connection'), { name: 'KafkaJSConnectionClosedError' });
    expect(transientAnswer(closed)).toBe('KafkaJSConnectionClosedError');
    expect(transientAnswer(new KafkaJSRequestTimeoutError('Request Metadata(key: 3, version: 6) timed out'))).toBe('KafkaJSRequestTimeoutError');
    // Raised with a message, as KafkaJS does; its types declare no constructor arguments.
    const notFound: unknown = Reflect.construct(KafkaJSGroupCoordinatorNotFound, ['Failed to find group coordinator']);
    expect(transientAnswer(notFound)).toBe('KafkaJSGroupCoordinatorNotFound');
    expect(transientAnswer(new Error('Broker not connected'))).toBe('broker not connected');
  });

  it('looks through what KafkaJS wraps: its retries given up, a StreamrunError around it', () => {
    const exhausted = new KafkaJSNumberOfRetriesExceeded(unknownTopic(), { retryCount: 3, retryTime: 800 });
    expect(transientAnswer(exhausted)).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(transientAnswer(new StreamrunError('TOPIC_SETUP', 'x', { cause: exhausted }))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it("knows an answer KafkaJS wrapped in a plain KafkaJSError by its text, as a join's retries give up on a coordinator moving", () => {
    const moved = new KafkaJSNumberOfRetriesExceeded(new KafkaJSError(answer(16)), { retryCount: 5, retryTime: 3000 });
    expect(transientAnswer(moved)).toBe('NOT_COORDINATOR');
    expect(transientAnswer(new KafkaJSError(answer(27)))).toBeUndefined();
    expect(transientAnswer(new KafkaJSError('This is not the correct coordinator'))).toBeUndefined();
  });

  it('takes per-topic errors as transient only when every one is', () => {
    const leader = answer(5);
    expect(transientAnswer(new KafkaJSAggregateError('Topic creation errors', [leader, unknownTopic()]))).toBe('LEADER_NOT_AVAILABLE');
    const invalid = answer(38);
    expect(transientAnswer(new KafkaJSAggregateError('Topic creation errors', [leader, invalid]))).toBeUndefined();
    expect(transientAnswer(new KafkaJSAggregateError('Topic creation errors', []))).toBeUndefined();
  });

  it('says undefined for everything else', () => {
    // Not authorized to access topics; an invalid topic; the group is rebalancing (KafkaJS rejoins).
    expect([29, 17, 27].map((code) => transientAnswer(answer(code)))).toEqual([undefined, undefined, undefined]);
    expect(transientAnswer(new KafkaJSNonRetriableError('Invalid topics array'))).toBeUndefined();
    expect(transientAnswer(new Error('boom'))).toBeUndefined();
    expect(transientAnswer('LEADER_NOT_AVAILABLE')).toBeUndefined();
    expect(transientAnswer(undefined)).toBeUndefined();
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
