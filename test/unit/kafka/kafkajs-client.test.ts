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
import { transientAnswer } from '../../../lib/kafka/kafkajs-client.ts';
import { transientCodes } from './transient-codes.ts';

/** A broker's error answer as KafkaJS raises it: type, text and retriable from KafkaJS's own table. */
const answer = createRequire(import.meta.url)('kafkajs/src/protocol/error.js').createErrorFromCode as (code: number) => KafkaJSProtocolError;

const unknownTopic = () => answer(3);

describe('transientAnswer()', () => {
  it("names each transient broker answer by Kafka's own name", () => {
    const cases = transientCodes;
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
