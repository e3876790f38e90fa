/**
 * Every error streamrun raises on purpose. `code` is closed so callers can switch on it;
 * the context fields say where it happened.
 */
export const errorCodes = [
  'INVALID_TOPOLOGY',
  'INVALID_OPTIONS',
  'DESERIALIZATION',
  'PROCESSING',
  /** A dependency refused the record itself (bad data): trying it again fails the same way. */
  'REJECTED',
  'BROKER_UNREACHABLE',
  /** The broker refused the SASL credentials: a retry with the same ones fails the same way. */
  'AUTHENTICATION_FAILED',
  /** The TLS handshake failed on the broker's certificate (untrusted, expired, another host's). */
  'TLS_FAILED',
  'TOPIC_SETUP',
  /** A start-up step still failed transiently when `startupTimeoutMs` ran out. */
  'STARTUP_TIMEOUT',
  'SHUTDOWN_TIMEOUT',
  'TOPOLOGY_LOAD',
  /** A record came after every window it belongs to had closed (with `late: 'dead-letter'`). */
  'LATE_RECORD',
  /** Another instance holds the answer to a query and cannot give it now. */
  'UNAVAILABLE',
  /** The state directory cannot be written (read-only, missing, full): the runner stops. */
  'STATE_DIR',
  /** Exactly-once: the transaction a batch sent into was aborted; its records are read again. */
  'TRANSACTION_ABORTED',
  /** The schema registry refused a schema (incompatible, invalid) or could not be reached. */
  'SCHEMA_REGISTRY',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface ErrorContext {
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;
  readonly node?: string;
}

export class StreamrunError extends Error {
  override readonly name: string = 'StreamrunError';
  readonly code: ErrorCode;
  /** Whether trying the same thing again may succeed. */
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retriable?: boolean; context?: ErrorContext } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }
}

/** An option (of the runner, a connector, the command line) that cannot be used as given. */
export function invalidOptions(message: string): StreamrunError {
  return new StreamrunError('INVALID_OPTIONS', message);
}
