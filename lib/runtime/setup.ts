import type { FastifyInstance } from 'fastify';
import type { RecordHeaders } from '../graph/nodes.ts';
import type { OutputProducer, StreamClient } from '../kafka/client.ts';
import type { Logger } from './logger.ts';
import { StreamrunError } from '../errors/streamrun-error.ts';
import { SendQueue } from './send-queue.ts';
import type { RecordCounter } from './record-counter.ts';
import type { StartupStep } from './startup-retry.ts';
import { addTo, type Counters } from './stats.ts';
import { ensureTopic } from './topics.ts';

/** A record to publish from outside the topology (an HTTP or MQTT ingest). */
export interface PublishRecord {
  readonly key: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?: RecordHeaders;
  /** Set to pick the partition; otherwise the key's hash does (as in Kafka's Java client). */
  readonly partition?: number;
}

/** Adds routes to the runner's HTTP server; they share its error handling (JSON bodies, 4xx for bad input). */
export type HttpRoutes = (server: FastifyInstance) => void | Promise<void>;

/** Checks a dependency for `/health`; throws (or rejects) when it is not reachable. */
export type HealthCheck = () => Promise<void>;

/**
 * What a topology module's `setup` gets: the services around a topology (databases, ingest
 * endpoints, MQTT bridges) start here before the first record is processed, and stop after the
 * runner drained.
 *
 * @example
 * export async function setup(context: SetupContext) {
 *   const db = await connect(process.env.DATABASE_URL);
 *   context.onStop(() => db.close());
 *   context.healthCheck('postgres', () => db.ping());
 *   context.http((server) => server.post('/orders', async (req) => context.publish('orders', [...])));
 * }
 */
export interface SetupContext {
  readonly appId: string;
  readonly brokers: readonly string[];
  /** The runner's state directory (absolute): a place for embedded data. */
  readonly stateDir: string;
  readonly logger: Logger;
  /**
   * Publishes records; resolves once every one is acknowledged by all in-sync replicas. Rejects
   * with BROKER_UNREACHABLE (retriable) when that takes longer than `publishTimeoutMs`: the
   * records may or may not have been published, so a retry should carry the same ids.
   */
  publish(topic: string, records: readonly PublishRecord[]): Promise<void>;
  /** Records a topic holds now (every partition's high minus low watermark); 0 when it does not exist. */
  recordCount(topic: string): Promise<number>;
  /**
   * Creates a topic unless it exists; resolves to its partition count. What the broker answers
   * transiently is retried, as the runner's own topics are, until `startupTimeoutMs` is up.
   */
  ensureTopic(topic: string, partitions: number): Promise<number>;
  /** Routes for the HTTP server (served when the runner has a `port`). */
  http(routes: HttpRoutes): void;
  /** Adds a named check that `GET /health` runs. */
  healthCheck(name: string, check: HealthCheck): void;
  /** Runs at stop, after the runner drained and committed; the last registered runs first. */
  onStop(fn: () => void | Promise<void>): void;
  /**
   * Counts events an ingest endpoint took in or turned away, for the metrics
   * (`streamrun_ingest_events_total{source, outcome}`); `source` names the endpoint, e.g. 'http'.
   */
  ingested(source: string, outcome: 'accepted' | 'refused', events: number): void;
}

/** The topology module's hook; see SetupContext. */
export type Setup = (context: SetupContext) => void | Promise<void>;

/** A SetupContext and what the runner does with what was registered on it. */
export interface SetupRun {
  readonly context: SetupContext;
  readonly routes: readonly HttpRoutes[];
  readonly checks: ReadonlyMap<string, HealthCheck>;
  /** Runs the stop hooks, then closes the publishing producer. */
  close(): Promise<void>;
}

export function setupRun(
  client: StreamClient,
  step: StartupStep,
  fields: Pick<SetupContext, 'appId' | 'brokers' | 'stateDir' | 'logger'>,
  publishTimeoutMs: number,
  /** Under exactly-once: transactions leave markers between the records, so offsets no longer count them. */
  counter: RecordCounter | undefined,
  counters: Counters,
): SetupRun {
  const routes: HttpRoutes[] = [];
  const checks = new Map<string, HealthCheck>();
  const stops: (() => void | Promise<void>)[] = [];
  // Its own producer: ingest goes on while the runner drains, and must not outlive the one it uses.
  let producer: Promise<OutputProducer> | undefined;
  let queue: Promise<SendQueue> | undefined;
  const context: SetupContext = {
    ...fields,
    async publish(topic, records) {
      if (producer === undefined) {
        const connecting = (producer = client.producer());
        queue = connecting.then((p) => new SendQueue(p));
        // One that could not connect is not kept: the next publish tries again.
        connecting.catch(() => {
          if (producer === connecting) producer = queue = undefined;
        });
      }
      const messages = records.map((r) => ({
        key: typeof r.key === 'string' ? Buffer.from(r.key) : r.key,
        value: typeof r.value === 'string' ? Buffer.from(r.value) : r.value,
        ...(r.headers === undefined ? {} : { headers: r.headers }),
        ...(r.partition === undefined ? {} : { partition: r.partition }),
      }));
      const unreachable = new StreamrunError(
        'BROKER_UNREACHABLE',
        `Kafka did not acknowledge ${records.length} record(s) for ${topic} within ${publishTimeoutMs} ms`,
        { retriable: true },
      );
      // The producer retries for as long as the broker is away: the caller waits only this long.
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(unreachable), publishTimeoutMs);
      try {
        const sending = queue!.then((q) => q.send(new Map([[topic, messages]]), deadline.signal));
        const expired = new Promise<never>((_, reject) => deadline.signal.addEventListener('abort', () => reject(unreachable)));
        await Promise.race([sending, expired]);
      } finally {
        clearTimeout(timer);
      }
    },
    async recordCount(topic) {
      if (counter !== undefined) return [...(await counter.count(topic)).values()].reduce((sum, n) => sum + n, 0);
      if (!(await client.partitionCounts([topic])).has(topic)) return 0;
      let count = 0;
      for (const { low, high } of (await client.offsets(topic)).values()) count += Number(BigInt(high) - BigInt(low));
      return count;
    },
    ensureTopic: (topic, partitions) => ensureTopic(client, step, topic, partitions, fields.logger),
    http: (r) => void routes.push(r),
    healthCheck: (name, check) => void checks.set(name, check),
    onStop: (fn) => void stops.push(fn),
    ingested: (source, outcome, events) => addTo(counters.ingest, `${source}\u0000${outcome}`, events),
  };
  return {
    context,
    routes,
    checks,
    async close() {
      for (const stop of stops.reverse()) {
        try {
          await stop();
        } catch (error) {
          fields.logger.error(`a stop hook failed: ${(error as Error).message}`);
        }
      }
      if (producer !== undefined) await (await producer.catch(() => undefined))?.close();
    },
  };
}
