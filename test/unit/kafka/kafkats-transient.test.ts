import {
  BrokerNotAvailableError,
  ConnectionError,
  CoordinatorNotAvailableError,
  KafkaProtocolError,
  LeaderNotAvailableError,
  NotCoordinatorError,
  TimeoutError,
  UnknownTopicOrPartitionError,
} from '@kafkats/client';
import { describe, expect, it } from 'vitest';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';
import { kafkatsTransient } from '../../../lib/kafka/kafkats-errors.ts';
import { transientCodes } from './transient-codes.ts';

/** kafkats's network layer classes are not exported; these carry their names, as kafkats's own do. */
function networkError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

describe('kafkatsTransient()', () => {
  it("names each transient broker answer by Kafka's own name, from its code", () => {
    const cases = transientCodes;
    expect(cases.map(([code]) => kafkatsTransient(new KafkaProtocolError(code, 'context')))).toEqual(cases.map(([, name]) => name));
  });

  it("names kafkats's own classes for those answers", () => {
    expect(kafkatsTransient(new UnknownTopicOrPartitionError('t', 0))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(kafkatsTransient(new LeaderNotAvailableError('t', 0))).toBe('LEADER_NOT_AVAILABLE');
    expect(kafkatsTransient(new CoordinatorNotAvailableError('GROUP', 'g'))).toBe('COORDINATOR_NOT_AVAILABLE');
    expect(kafkatsTransient(new NotCoordinatorError('TRANSACTION', 'tx'))).toBe('NOT_COORDINATOR');
    expect(kafkatsTransient(new TimeoutError('Metadata', 30_000))).toBe('REQUEST_TIMED_OUT');
    // A broker its cached metadata does not list: back after an outage, until the cache is read again.
    expect(kafkatsTransient(new BrokerNotAvailableError(2))).toBe('BROKER_NOT_AVAILABLE');
  });

  it('names connection errors and time-outs, and a cluster with no broker left to ask', () => {
    expect(kafkatsTransient(new ConnectionError('b', 9092, new Error('ECONNRESET')))).toBe('ConnectionError');
    expect(kafkatsTransient(networkError('ConnectionError', 'Connection to b:9092 failed: connect ECONNREFUSED'))).toBe('ConnectionError');
    expect(kafkatsTransient(networkError('ConnectionTimeoutError', 'Connection to b:9092 failed: timed out after 3000ms'))).toBe('ConnectionTimeoutError');
    expect(kafkatsTransient(networkError('ConnectionClosedError', 'Connection closed unexpectedly'))).toBe('ConnectionClosedError');
    expect(kafkatsTransient(networkError('RequestTimeoutError', 'Request 7 timed out after 30000ms'))).toBe('RequestTimeoutError');
    expect(kafkatsTransient(new Error('No brokers available'))).toBe('no brokers available');
  });

  it('looks through causes: kafkats wrapping a failed bootstrap, a StreamrunError around it', () => {
    const refused = networkError('ConnectionError', 'Connection to b:9092 failed: connect ECONNREFUSED');
    const bootstrap = new Error(`Failed to connect to any bootstrap broker: ${refused.message}`, { cause: refused });
    expect(kafkatsTransient(bootstrap)).toBe('ConnectionError');
    expect(kafkatsTransient(new StreamrunError('TOPIC_SETUP', 'x', { cause: new KafkaProtocolError(5) }))).toBe('LEADER_NOT_AVAILABLE');
  });

  it('takes gathered errors as transient only when every one is', () => {
    expect(kafkatsTransient(new AggregateError([new KafkaProtocolError(5), new KafkaProtocolError(3)]))).toBe('LEADER_NOT_AVAILABLE');
    expect(kafkatsTransient(new AggregateError([new KafkaProtocolError(5), new KafkaProtocolError(29)]))).toBeUndefined();
  });

  it('leaves everything else alone: answers asking again does not clear, plain errors, non-errors', () => {
    expect(kafkatsTransient(new KafkaProtocolError(36))).toBeUndefined(); // TOPIC_ALREADY_EXISTS
    expect(kafkatsTransient(new KafkaProtocolError(29))).toBeUndefined(); // TOPIC_AUTHORIZATION_FAILED
    expect(kafkatsTransient(new KafkaProtocolError(10))).toBeUndefined(); // MESSAGE_TOO_LARGE
    expect(kafkatsTransient(new Error('Produce failed for t-0: InvalidRecord'))).toBeUndefined();
    expect(kafkatsTransient(new StreamrunError('REJECTED', 'header repeats'))).toBeUndefined();
    expect(kafkatsTransient('UNKNOWN_TOPIC_OR_PARTITION')).toBeUndefined();
    expect(kafkatsTransient(undefined)).toBeUndefined();
  });
});
