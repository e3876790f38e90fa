import { StreamrunError } from '../errors/streamrun-error.ts';
import type { KafkaSecurity } from './security.ts';

/** Node's codes for a broker certificate that does not check out: a retry meets the same one. */
const certificateCodes = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** KafkaJS's and kafkats's classes for a SASL exchange the broker refused. */
const authenticationClasses = new Set(['KafkaJSSASLAuthenticationError', 'SaslAuthenticationError']);

/** KafkaJS's and kafkats's classes for a connection the broker closed without a word. */
const closedClasses = new Set(['KafkaJSConnectionClosedError', 'ConnectionClosedError']);

/**
 * One line for a failed connect, on either client, naming the broker it failed at (the one in
 * the error when the client says, else the bootstrap list) and, for what a retry cannot mend
 * (credentials refused, a certificate not trusted), saying so with a code of its own.
 */
export function connectionError(error: unknown, brokers: readonly string[], security: KafkaSecurity): StreamrunError {
  const chain = causes(error);
  const at = chain.map(brokerOf).find((b) => b !== undefined) ?? brokers.join(',');
  const refused = chain.find((e) => authenticationClasses.has(e.name));
  if (refused !== undefined) {
    const { sasl } = security;
    const who = sasl === undefined ? '' : ` (SASL ${sasl.mechanism.toUpperCase()} as "${sasl.username}")`;
    // Both clients prefix the broker's own reason with theirs; the broker's says what was wrong.
    const reason = refused.message.replace(/^.*authentication failed:\s*/i, '');
    return new StreamrunError('AUTHENTICATION_FAILED', `authentication failed at Kafka ${at}${who}: ${reason}`, { cause: error });
  }
  const alert = chain.map(alertOf).find((a) => a !== undefined);
  if (alert !== undefined) {
    const hint =
      security.ssl?.cert === undefined
        ? 'does the listener want a client certificate (ssl.cert and ssl.key, --ssl-cert and --ssl-key)?'
        : 'does the broker trust the CA that signed ssl.cert (--ssl-cert)?';
    return new StreamrunError('TLS_FAILED', `TLS failed at Kafka ${at}: the broker refused the handshake (alert ${alert}); ${hint}`, { cause: error });
  }
  const certificate = chain.find((e) => certificateCodes.has(codeOf(e) ?? ''));
  if (certificate !== undefined) {
    const hint = security.ssl?.ca === undefined ? 'give the CA that signed it (ssl.ca, --ssl-ca)' : 'is ssl.ca (--ssl-ca) the CA that signed it?';
    return new StreamrunError('TLS_FAILED', `TLS failed at Kafka ${at}: its certificate is not trusted (${rootMessage(certificate)}); ${hint}`, {
      cause: error,
    });
  }
  return new StreamrunError('BROKER_UNREACHABLE', `cannot reach Kafka at ${at}: ${rootMessage(error)}${listenerHint(chain, security)}`, {
    cause: error,
    retriable: true,
  });
}

/** A TLS client meeting a plain listener is hung up on mid-handshake; a plain one meeting TLS, closed. */
function listenerHint(chain: readonly Error[], security: KafkaSecurity): string {
  const handshake = chain.some((e) => /before secure TLS connection was established/.test(e.message));
  if (handshake && security.ssl !== undefined) return ' (is this listener TLS? without ssl the client speaks plain Kafka)';
  if (security.ssl === undefined && chain.some((e) => closedClasses.has(e.name))) {
    return ' (a TLS or SASL listener hangs up on a plain client: give ssl and sasl, or --ssl and --sasl-*)';
  }
  return '';
}

/**
 * The TLS alert the broker sent, e.g. "certificate unknown" for a client certificate it does not
 * trust. OpenSSL's text says it (KafkaJS keeps Node's code too; kafkats only the text).
 */
function alertOf(error: Error): string | undefined {
  return /ssl3_read_bytes:(?:sslv3|tlsv1[0-9]*) alert ([a-z ]+)/i.exec(error.message)?.[1];
}

function causes(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let e: unknown = error; e instanceof Error && chain.length < 10; e = e.cause) chain.push(e);
  return chain;
}

/** KafkaJS sets `broker` ("host:port"); kafkats's ConnectionError, `host` and `port`. */
function brokerOf(error: Error): string | undefined {
  const { broker, host, port } = error as { broker?: unknown; host?: unknown; port?: unknown };
  if (typeof broker === 'string') return broker;
  if (typeof host === 'string' && typeof port === 'number') return `${host}:${port}`;
  return undefined;
}

function codeOf(error: Error): string | undefined {
  const { code } = error as { code?: unknown };
  return typeof code === 'string' ? code : undefined;
}

function rootMessage(error: unknown): string {
  const root = causes(error).at(-1);
  const message = (root === undefined ? String(error) : root.message).replace(/^Connection error: /, '');
  // What KafkaJS says of a broker that took the connection and never answered its first request.
  return message === 'Broker not connected' ? 'it took the connection but did not answer' : message;
}
