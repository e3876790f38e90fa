import { describe, expect, it } from 'vitest';
import { connectionError } from '../../../lib/kafka/connection-errors.ts';
import type { KafkaSecurity } from '../../../lib/kafka/security.ts';

const brokers = ['b1:9093', 'b2:9093'];
const sasl: KafkaSecurity = { ssl: {}, sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'secret' } };

/** An error as the clients make them: a name, fields, and a cause. */
function clientError(name: string, message: string, fields: Record<string, unknown> = {}, cause?: Error): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { name, ...fields });
}

describe('connectionError', () => {
  it("says the credentials were refused, with the broker's reason and who asked", () => {
    const refused = clientError('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA512 authentication failed: invalid credentials');
    const error = connectionError(refused, brokers, sasl);
    expect([error.code, error.retriable, error.message]).toEqual([
      'AUTHENTICATION_FAILED',
      false,
      'authentication failed at Kafka b1:9093,b2:9093 (SASL SCRAM-SHA-512 as "alice"): invalid credentials',
    ]);
    expect(error.cause).toBe(refused);
  });

  it('names the broker the client names: KafkaJS by `broker`, kafkats by host and port', () => {
    const kafkajs = clientError('KafkaJSNumberOfRetriesExceeded', 'Connection error: self-signed certificate in certificate chain', {}, clientError(
      'KafkaJSConnectionError',
      'Connection error: self-signed certificate in certificate chain',
      { broker: 'b2:9093', code: 'SELF_SIGNED_CERT_IN_CHAIN' },
    ));
    expect(connectionError(kafkajs, brokers, { ssl: {}, sasl: undefined }).message).toBe(
      'TLS failed at Kafka b2:9093: its certificate is not trusted (self-signed certificate in certificate chain); give the CA that signed it (ssl.ca, --ssl-ca)',
    );
    const socket = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const kafkats = new Error('Failed to connect to any bootstrap broker', {
      cause: clientError('ConnectionError', 'Connection to b1:9093 failed', { host: 'b1', port: 9093 }, socket),
    });
    const error = connectionError(kafkats, brokers, { ssl: { ca: 'pem' }, sasl: undefined });
    expect([error.code, error.message]).toEqual([
      'TLS_FAILED',
      'TLS failed at Kafka b1:9093: its certificate is not trusted (unable to verify the first certificate); is ssl.ca (--ssl-ca) the CA that signed it?',
    ]);
  });

  it('says the broker refused the handshake when it sends a TLS alert, with what to check', () => {
    const alert = '805C4BF3A97F0000:error:0A000416:SSL routines:ssl3_read_bytes:sslv3 alert certificate unknown:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 46\n';
    const kafkats = new Error(`Failed to connect to any bootstrap broker: SASL authentication failed: ${alert}`, {
      cause: clientError('NetworkError', `SASL authentication failed: ${alert}`),
    });
    const withCert = connectionError(kafkats, ['b1:9093'], { ssl: { cert: 'pem', key: 'pem' }, sasl: undefined });
    expect([withCert.code, withCert.message]).toEqual([
      'TLS_FAILED',
      'TLS failed at Kafka b1:9093: the broker refused the handshake (alert certificate unknown); does the broker trust the CA that signed ssl.cert (--ssl-cert)?',
    ]);
    const required = clientError('KafkaJSConnectionError', 'Connection error: 40:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:x', {
      broker: 'b2:9093',
    });
    expect(connectionError(required, brokers, sasl).message).toBe(
      'TLS failed at Kafka b2:9093: the broker refused the handshake (alert certificate required); does the listener want a client certificate (ssl.cert and ssl.key, --ssl-cert and --ssl-key)?',
    );
  });

  it('is BROKER_UNREACHABLE, retriable, for the rest, with a hint when TLS meets a plain listener or the other way round', () => {
    const refused = connectionError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), ['127.0.0.1:1'], sasl);
    expect([refused.code, refused.retriable, refused.message]).toEqual(['BROKER_UNREACHABLE', true, 'cannot reach Kafka at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1']);
    const hungUp = new Error('Client network socket disconnected before secure TLS connection was established');
    expect(connectionError(hungUp, brokers, sasl).message).toBe(
      'cannot reach Kafka at b1:9093,b2:9093: Client network socket disconnected before secure TLS connection was established (is this listener TLS? without ssl the client speaks plain Kafka)',
    );
    const closed = clientError('ConnectionClosedError', 'Connection closed unexpectedly');
    expect(connectionError(closed, brokers, { ssl: undefined, sasl: undefined }).message).toBe(
      'cannot reach Kafka at b1:9093,b2:9093: Connection closed unexpectedly (a TLS or SASL listener hangs up on a plain client: give ssl and sasl, or --ssl and --sasl-*)',
    );
  });
});
