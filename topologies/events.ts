/**
 * The bundled event pipeline. Events come in over HTTP (`POST /events`), MQTT (when `MQTT_URL`
 * is set) or straight into the Kafka topic `events.raw`, as JSON or as plain log lines (Kafka
 * Connect's FileStreamSource: docker/connect), read by `EVENTS_LINE_PATTERN` (see
 * events/line.ts); they are validated (invalid ones, unmatched lines among them, go to
 * the dead-letter topic `events-dlq` with the reason), enriched with the reading in their
 * payload and their lag, written to `events.processed` and PostgreSQL, and counted per type
 * in 1-minute windows. The API on :8080 serves what is stored.
 *
 *   streamrun start topologies/events.ts            # DATABASE_URL, MQTT_URL, STREAMRUN_API_TOKEN, EVENTS_LINE_PATTERN
 */
import { randomUUID } from 'node:crypto';
import { serdes, topology, tumbling, type RunnerOptions, type SetupContext } from 'streamrun';
import { startMqttSource } from '../lib/connectors/mqtt-source.ts';
import { postgresSink } from '../lib/connectors/postgres-sink.ts';
import type { Database } from '../lib/connectors/postgres.ts';
import { eventsApi } from './events/api.ts';
import { openDatabase } from './events/database.ts';
import { processEvent, ValidationError, type Event, type ProcessedEvent } from './events/event.ts';
import { compileLinePattern, linePatternVariable } from './events/line.ts';
import { eventFromMqtt } from './events/mqtt.ts';
import { parseRecord } from './events/record.ts';

// Exactly-once: event_stats holds aggregates, which a replay after a crash would count twice.
export const options: RunnerOptions = { port: 8080, sourcePartitions: 6, processing: 'exactly-once' };

/**
 * Lets several pipelines share a broker: `EVENTS_TOPIC_PREFIX=staging.` reads `staging.events.raw`
 * as application `staging.events` (its own consumer group, changelogs and `staging.events-dlq`).
 */
const prefix = process.env['EVENTS_TOPIC_PREFIX'] ?? '';
export const topics = { raw: `${prefix}events.raw`, processed: `${prefix}events.processed` } as const;

// Compiled on load: a bad pattern stops the start, rather than sending every line to the DLQ.
const linePattern = compileLinePattern(process.env[linePatternVariable]);

let db: Database | undefined;
const database = (): Database => {
  if (db === undefined) throw new Error('the events database is not open yet');
  return db;
};

interface WindowTotals {
  count: number;
  numericCount: number;
  min: number | null;
  max: number | null;
  sum: number;
}

const app = topology(`${prefix}events`);

const processed = app
  .stream(topics.raw, { key: serdes.string, value: serdes.buffer })
  .mapValues(
    // An event without an id gets one from where it sits in Kafka: the same every time it is read.
    (bytes, _key, ctx) => parseRecord(bytes, { id: () => `${ctx.topic}-${ctx.partition}-${ctx.offset}`, source: 'kafka', timestamp: ctx.timestamp }, linePattern),
    { name: 'validate', errors: { nonRetryable: [ValidationError] } },
  )
  .mapValues((event, _key, ctx) => processEvent(event, ctx.timestamp, Date.now()), { name: 'enrich' });

processed.to(topics.processed, { value: serdes.json<ProcessedEvent>() }, { name: 'processed-topic' });

processed.sink(
  postgresSink({
    db: database,
    table: 'events',
    key: ['id'],
    columns: ['id', 'type', 'source', 'ts', { name: 'payload', cast: 'jsonb' }, 'value', 'unit', 'ingested_at', 'processed_at', 'lag_ms'],
    row: ({ value: e }) => ({
      id: e.id,
      type: e.type,
      source: e.source,
      ts: new Date(e.timestamp),
      payload: JSON.stringify(e.payload),
      value: e.value,
      unit: e.unit,
      ingested_at: new Date(e.ingestedAt),
      processed_at: new Date(e.processedAt),
      lag_ms: e.lagMs,
    }),
  }),
  { name: 'events-db' },
);

processed
  .groupBy((e) => e.type, { key: serdes.string })
  .windowedBy(tumbling(60_000).grace(10_000), { timestamp: (e) => e.timestamp })
  .aggregate<WindowTotals>(
    () => ({ count: 0, numericCount: 0, min: null, max: null, sum: 0 }),
    (t, e) =>
      e.value === null
        ? { ...t, count: t.count + 1 }
        : {
            count: t.count + 1,
            numericCount: t.numericCount + 1,
            min: t.min === null ? e.value : Math.min(t.min, e.value),
            max: t.max === null ? e.value : Math.max(t.max, e.value),
            sum: t.sum + e.value,
          },
    { name: 'type-windows', emit: 'update' },
  )
  .toStream()
  .sink(
    postgresSink({
      db: database,
      table: 'event_stats',
      key: ['type', 'window_start'],
      columns: ['type', 'window_start', 'window_end', 'count', 'numeric_count', 'min', 'max', 'avg'],
      row: ({ key: window, value: t }) => ({
        type: window.key,
        window_start: new Date(window.start),
        window_end: new Date(window.end),
        count: t.count,
        numeric_count: t.numericCount,
        min: t.min,
        max: t.max,
        avg: t.numericCount === 0 ? null : t.sum / t.numericCount,
      }),
    }),
    { name: 'stats-db' },
  );

export default app;

/** Opens the database and starts the ingest around the topology. */
export async function setup(context: SetupContext): Promise<void> {
  db = await openDatabase(context);
  const publish = (events: readonly Event[]) =>
    context.publish(topics.raw, events.map((e) => ({ key: e.id, value: JSON.stringify(e) })));
  const token = process.env['STREAMRUN_API_TOKEN'];
  context.http(
    eventsApi({
      db: database,
      publish,
      deadLetters: () => context.recordCount(`${context.appId}-dlq`),
      ingested: (outcome, events) => context.ingested('http', outcome, events),
      token: token === undefined || token === '' ? undefined : token,
    }),
  );
  const mqttUrl = process.env['MQTT_URL'];
  if (mqttUrl !== undefined && mqttUrl !== '') {
    const source = await startMqttSource({
      url: mqttUrl,
      topics: (process.env['MQTT_TOPICS'] ?? 'sensors/+/+').split(','),
      kafkaTopic: topics.raw,
      clientId: `${context.appId}-mqtt`,
      toRecord: (topic, payload) => {
        const event = eventFromMqtt(topic, payload, { id: randomUUID, source: topic, timestamp: Date.now() });
        return { key: Buffer.from(event.id), value: Buffer.from(JSON.stringify(event)) };
      },
      producer: {
        send: async (lanes) => {
          for (const [topic, records] of lanes) await context.publish(topic, records);
          return [];
        },
        close: async () => {},
      },
      logger: context.logger,
      ingested: (outcome, messages) => context.ingested('mqtt', outcome, messages),
    });
    context.onStop(() => source.close());
  }
}
