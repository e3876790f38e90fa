import { resolve } from 'node:path';
import { checkAppId } from '../dsl/naming.ts';
import { resolveErrorPolicy, type ErrorPolicy, type ResolvedErrorPolicy } from '../errors/policy.ts';
import { invalidOptions } from '../errors/streamrun-error.ts';
import { resolveSecurity, type KafkaSecurity, type SaslOptions, type SslOptions } from '../kafka/security.ts';
import { clientNames, type ClientName } from '../kafka/stream-client.ts';
import { consoleLogger, type Logger } from './logger.ts';
import type { Setup } from './setup.ts';

/** How a runner connects and behaves. Every field has a default; see the README's table. */
export interface RunnerOptions {
  /** Bootstrap brokers. Default: `KAFKA_BROKERS` (comma-separated), else `127.0.0.1:9092`. */
  brokers?: string | readonly string[];
  /**
   * TLS to the brokers: `true` trusts the system's CAs (managed clusters), an object a CA of
   * yours and, for mutual TLS, a client certificate (PEM text, not paths). Default: plain TCP.
   */
  ssl?: boolean | SslOptions;
  /** SASL authentication (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), with `ssl` for SASL_SSL. Default: none. */
  sasl?: SaslOptions;
  /** Overrides the topology's application id (consumer group and internal topic prefix). */
  appId?: string;
  /**
   * The Kafka client underneath: `kafkajs` (KafkaJS 2.2.4) or `kafkats` (@kafkats/client 0.12.0,
   * experimental). Default: `STREAMRUN_CLIENT`, else `kafkajs`; the README says why.
   */
  client?: ClientName;
  /**
   * `at-least-once` (default): every record's effects are committed, some twice after a crash.
   * `exactly-once`: outputs, store changes and input offsets commit together in Kafka
   * transactions, so read_committed readers see each effect once; needs the kafkats client
   * (chosen when `client` is not given). The README's Guarantees section says what it costs.
   */
  processing?: Processing;
  /** Exactly-once: a transaction commits at the first chunk boundary once this long went by. Default 100 ms. */
  commitIntervalMs?: number;
  /** Where local state lives. Default: `./.streamrun-state`. */
  stateDir?: string;
  /** Partitions for a source topic that does not exist yet and is created. Default 1. */
  sourcePartitions?: number;
  /** A task commits once this many outputs wait, even mid-batch. Default 10,000. */
  maxBufferedOutputs?: number;
  /**
   * How long start-up may retry what a busy or fresh cluster answers transiently (a topic's
   * metadata not there yet, a coordinator still loading) before it gives up. Default 60 s.
   */
  startupTimeoutMs?: number;
  /** How long `stop()` may take to drain and commit before it gives up. Default 30 s. */
  shutdownTimeoutMs?: number;
  /**
   * How long a setup's `publish` (an HTTP or MQTT ingest) waits for Kafka's acknowledgement
   * before it rejects with BROKER_UNREACHABLE (an HTTP route answers 503). Default 5 s.
   */
  publishTimeoutMs?: number;
  /**
   * How long a task writing a repartition topic, or an input partition that had more to read,
   * may go without news before the tasks reading it stop waiting for it to close windows.
   * Default 10 s.
   */
  watermarkIdleMs?: number;
  /**
   * How long the group waits for a member that stopped heartbeating (a crash, a lost host)
   * before its partitions move. A member that stops or fails in a way the process sees leaves
   * the group at once; this bounds the rest. At least 6 s (the broker's minimum). Default 10 s.
   */
  sessionTimeoutMs?: number;
  /**
   * How long a partition's batch may go without a commit before `/health` says degraded (its
   * records wait on retries, a slow call, a dependency that is down). Default 60 s.
   */
  stallTimeoutMs?: number;
  /** Port of the embedded HTTP server (health, store queries); 0 = any free port. Default: off. */
  port?: number;
  /** Interface the HTTP server binds. Default 127.0.0.1: stores are served without authentication. */
  host?: string;
  /**
   * The URL the application's other instances reach this one's HTTP server at, to ask it for
   * keys it holds (e.g. `http://10.0.0.5:8080`). Default: the server's own URL, right when all
   * instances run on one host.
   */
  advertisedUrl?: string;
  /** What happens to a record a node throws on; see ErrorPolicy. Default: 3 retries, then `<appId>-dlq`. */
  errors?: ErrorPolicy;
  logger?: Logger;
  /** Starts the services around the topology (databases, ingest); see SetupContext. */
  setup?: Setup;
}

export interface ResolvedRunnerOptions {
  readonly brokers: readonly string[];
  readonly security: KafkaSecurity;
  readonly appId: string;
  readonly client: ClientName;
  readonly processing: Processing;
  readonly commitIntervalMs: number;
  readonly stateDir: string;
  readonly sourcePartitions: number;
  readonly maxBufferedOutputs: number;
  readonly startupTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly publishTimeoutMs: number;
  readonly watermarkIdleMs: number;
  readonly sessionTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly port: number | undefined;
  readonly host: string | undefined;
  readonly advertisedUrl: string | undefined;
  readonly errors: ResolvedErrorPolicy;
  readonly logger: Logger;
  readonly setup: Setup | undefined;
}

export const defaultBrokers = '127.0.0.1:9092';

export const processingModes = ['at-least-once', 'exactly-once'] as const;
export type Processing = (typeof processingModes)[number];

/** Validates once, at the public boundary, so nothing deeper checks again. */
export function resolveRunnerOptions(options: RunnerOptions, topologyAppId: string): ResolvedRunnerOptions {
  const brokers = parseBrokers(options.brokers ?? process.env['KAFKA_BROKERS'] ?? defaultBrokers);
  const appId = options.appId === undefined ? topologyAppId : checkAppId(options.appId);
  const processing = processingMode(options.processing ?? 'at-least-once');
  return {
    brokers,
    security: resolveSecurity(options.ssl, options.sasl),
    appId,
    client: resolveClient(options.client, processing),
    processing,
    commitIntervalMs: positiveInteger('commitIntervalMs', options.commitIntervalMs ?? 100),
    errors: resolveErrorPolicy(options.errors ?? {}, appId),
    stateDir: resolve(options.stateDir ?? '.streamrun-state'),
    sourcePartitions: positiveInteger('sourcePartitions', options.sourcePartitions ?? 1),
    maxBufferedOutputs: positiveInteger('maxBufferedOutputs', options.maxBufferedOutputs ?? 10_000),
    startupTimeoutMs: positiveInteger('startupTimeoutMs', options.startupTimeoutMs ?? 60_000),
    shutdownTimeoutMs: positiveInteger('shutdownTimeoutMs', options.shutdownTimeoutMs ?? 30_000),
    publishTimeoutMs: positiveInteger('publishTimeoutMs', options.publishTimeoutMs ?? 5000),
    watermarkIdleMs: positiveInteger('watermarkIdleMs', options.watermarkIdleMs ?? 10_000),
    sessionTimeoutMs: sessionTimeout(options.sessionTimeoutMs ?? 10_000),
    stallTimeoutMs: positiveInteger('stallTimeoutMs', options.stallTimeoutMs ?? 60_000),
    port: options.port === undefined ? undefined : port(options.port),
    host: options.host,
    advertisedUrl: options.advertisedUrl === undefined ? undefined : url('advertisedUrl', options.advertisedUrl),
    logger: options.logger ?? consoleLogger(),
    setup: options.setup,
  };
}

/**
 * The client asked for, else `STREAMRUN_CLIENT`, else KafkaJS. Exactly-once runs on kafkats
 * unless asked otherwise, whatever the environment says: KafkaJS cannot do it.
 */
export function resolveClient(asked: string | undefined, processing: Processing = 'at-least-once'): ClientName {
  const value = asked ?? (processing === 'exactly-once' ? 'kafkats' : (process.env['STREAMRUN_CLIENT'] ?? 'kafkajs'));
  const known: readonly string[] = clientNames;
  if (!known.includes(value)) throw invalidOptions(`client: expected ${clientNames.join(' or ')}, got "${value}"`);
  if (processing === 'exactly-once' && value === 'kafkajs') {
    throw invalidOptions(
      'processing: exactly-once needs the kafkats client: KafkaJS cannot send offsets with the group generation (KIP-447); use client kafkats (--client kafkats) or at-least-once',
    );
  }
  return value as ClientName;
}

function processingMode(value: string): Processing {
  const known: readonly string[] = processingModes;
  if (!known.includes(value)) throw invalidOptions(`processing: expected ${processingModes.join(' or ')}, got "${value}"`);
  return value as Processing;
}

/** Splits and checks a `host:port[,host:port]` list (or an array of them). */
export function parseBrokers(value: string | readonly string[]): string[] {
  const list = (typeof value === 'string' ? value.split(',') : [...value]).map((b) => b.trim()).filter(Boolean);
  if (list.length === 0) throw invalidOptions('brokers: give at least one host:port');
  for (const broker of list) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) throw invalidOptions(`brokers: "${broker}" is not host:port`);
  }
  return list;
}

function url(name: string, value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw invalidOptions(`${name}: "${value}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidOptions(`${name}: expected an http(s) URL, got "${value}"`);
  // Paths are appended to it: no trailing slash.
  return value.replace(/\/+$/, '');
}

function port(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw invalidOptions(`port: expected 0 to 65535, got ${value}`);
  return value;
}

/** The broker refuses a join outside group.min/max.session.timeout.ms (6 s and 30 min by default). */
function sessionTimeout(value: number): number {
  if (!Number.isInteger(value) || value < 6_000 || value > 1_800_000) {
    throw invalidOptions(`sessionTimeoutMs: expected 6000 to 1800000 (the broker's bounds), got ${value}`);
  }
  return value;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw invalidOptions(`${name}: expected a positive integer, got ${value}`);
  return value;
}
