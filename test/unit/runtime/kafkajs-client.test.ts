import {
  KafkaJSAggregateError,
  KafkaJSConnectionError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';
import { transientAnswer } from '../../../lib/runtime/kafkajs-client.ts';

/** A broker's error answer as KafkaJS raises it (its type, code and text from KafkaJS's table). */
function answer(type: string, code: number, message: string, retriable = true): KafkaJSProtocolError {
  return new KafkaJSProtocolError(Object.assign(new Error(message), { type, code, retriable }));
}

const unknownTopic = () => answer('UNKNOWN_TOPIC_OR_PARTITION', 3, 'This server does not host this topic-partition');

describe('transientAnswer()', () => {
  it("names each transient broker answer by Kafka's own name", () => {
    const cases: [KafkaJSProtocolError, string][] = [
      [unknownTopic(), 'UNKNOWN_TOPIC_OR_PARTITION'],
      [answer('LEADER_NOT_AVAILABLE', 5, 'There is no leader for this topic-partition'), 'LEADER_NOT_AVAILABLE'],
      [answer('NOT_LEADER_FOR_PARTITION', 6, 'This server is not the leader for that topic-partition'), 'NOT_LEADER_OR_FOLLOWER'],
      [answer('REQUEST_TIMED_OUT', 7, 'The request timed out'), 'REQUEST_TIMED_OUT'],
      [answer('GROUP_LOAD_IN_PROGRESS', 14, "The coordinator is loading"), 'COORDINATOR_LOAD_IN_PROGRESS'],
      [answer('GROUP_COORDINATOR_NOT_AVAILABLE', 15, 'The group coordinator is not available'), 'COORDINATOR_NOT_AVAILABLE'],
      [answer('NOT_COORDINATOR_FOR_GROUP', 16, 'This is not the correct coordinator for this group'), 'NOT_COORDINATOR'],
    ];
    expect(cases.map(([error]) => transientAnswer(error))).toEqual(cases.map(([, name]) => name));
  });

  it("names KafkaJS's connection errors, request time-outs and a coordinator not found by their class", () => {
    expect(transientAnswer(new KafkaJSConnectionError('Connection timeout', { broker: 'b:9092' }))).toBe('KafkaJSConnectionError');
    const closed = Object.assign(new KafkaJSConnectionError('Closed connection'), { name: 'KafkaJSConnectionClosedError' });
    expect(transientAnswer(closed)).toBe('KafkaJSConnectionClosedError');
    expect(transientAnswer(new KafkaJSRequestTimeoutError('Request Metadata(key: 3, version: 6) timed out'))).toBe('KafkaJSRequestTimeoutError');
    // Raised with a message, as KafkaJS does; its types declare no constructor arguments.
    const notFound: unknown = Reflect.construct(KafkaJSGroupCoordinatorNotFound, ['Failed to find group coordinator']);
    expect(transientAnswer(notFound)).toBe('KafkaJSGroupCoordinatorNotFound');
  });

  it('looks through what KafkaJS wraps: its retries given up, a StreamrunError around it', () => {
    const exhausted = new KafkaJSNumberOfRetriesExceeded(unknownTopic(), { retryCount: 3, retryTime: 800 });
    expect(transientAnswer(exhausted)).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(transientAnswer(new StreamrunError('TOPIC_SETUP', 'x', { cause: exhausted }))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('takes per-topic errors as transient only when every one is', () => {
    const leader = answer('LEADER_NOT_AVAILABLE', 5, 'There is no leader for this topic-partition');
    expect(transientAnswer(new KafkaJSAggregateError('Topic creation errors', [leader, unknownTopic()]))).toBe('LEADER_NOT_AVAILABLE');
    const invalid = answer('INVALID_REPLICATION_FACTOR', 38, 'Replication-factor is invalid', false);
    expect(transientAnswer(new KafkaJSAggregateError('Topic creation errors', [leader, invalid]))).toBeUndefined();
    expect(transientAnswer(new KafkaJSAggregateError('Topic creation errors', []))).toBeUndefined();
  });

  it('says undefined for everything else', () => {
    expect(transientAnswer(answer('TOPIC_AUTHORIZATION_FAILED', 29, 'Not authorized to access topics', false))).toBeUndefined();
    expect(transientAnswer(answer('INVALID_TOPIC_EXCEPTION', 17, 'The request attempted to perform an operation on an invalid topic', false))).toBeUndefined();
    expect(transientAnswer(new KafkaJSNonRetriableError('Invalid topics array'))).toBeUndefined();
    expect(transientAnswer(new Error('boom'))).toBeUndefined();
    expect(transientAnswer('LEADER_NOT_AVAILABLE')).toBeUndefined();
    expect(transientAnswer(undefined)).toBeUndefined();
  });
});
