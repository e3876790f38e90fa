import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMqttSource, type MqttSource, type MqttSourceOptions } from '../../lib/connectors/mqtt-source.ts';
import type { OutputProducer, StreamClient } from '../../lib/kafka/client.ts';
import { createKafkaClient } from '../../lib/kafka/kafkajs-client.ts';
import { brokers, createTopic, readAll, uniqueName, type ReadRecord } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { waitFor } from './helpers/wait.ts';

const mqttUrl = process.env['MQTT_URL'] ?? 'mqtt://127.0.0.1:1883';

let kafka: StreamClient;
let producer: OutputProducer;
/** Every connector client id, so their sessions can be removed from the broker afterwards. */
const sessions: string[] = [];

beforeAll(async () => {
  kafka = createKafkaClient({ brokers: [brokers()], clientId: uniqueName('mqtt-source-test'), logger: collectingLogger() });
  await kafka.connect();
  producer = await kafka.producer();
});

afterAll(async () => {
  await producer?.close();
  await kafka?.close();
  // The connector's sessions never expire; a clean start with expiry 0 ends each one.
  for (const clientId of sessions) {
    const client = await connectAsync(mqttUrl, { clientId, clean: true, protocolVersion: 5, properties: { sessionExpiryInterval: 0 } });
    await client.endAsync();
  }
});

interface Reading {
  readonly id: string;
  readonly value: number;
}

/** Key and header carry the MQTT topic; a payload that is not a reading is rejected. */
function toRecord(mqttTopic: string, payload: Buffer): { key: Buffer; value: Buffer; headers: Record<string, string> } {
  const reading = JSON.parse(payload.toString()) as Partial<Reading>;
  if (typeof reading.id !== 'string') throw new Error('a reading needs an id');
  return { key: Buffer.from(mqttTopic), value: payload, headers: { 'mqtt-topic': mqttTopic, 'event-id': reading.id } };
}

interface Fixture {
  readonly prefix: string;
  readonly kafkaTopic: string;
  readonly logger: ReturnType<typeof collectingLogger>;
  readonly options: MqttSourceOptions;
}

async function fixture(name: string, overrides: Partial<MqttSourceOptions> = {}): Promise<Fixture> {
  const prefix = `sensors/${uniqueName(name)}`;
  const kafkaTopic = uniqueName(`mqtt-${name}`);
  const clientId = uniqueName(`mqtt-source-${name}`);
  sessions.push(clientId);
  await createTopic(kafkaTopic, 3);
  const logger = collectingLogger();
  const options: MqttSourceOptions = { url: mqttUrl, topics: [`${prefix}/+`], kafkaTopic, clientId, toRecord, producer, logger, ...overrides };
  return { prefix, kafkaTopic, logger, options };
}

/** Publishes at QoS 1 from a client of its own; resolves once the broker acknowledged every message. */
async function publish(messages: readonly { topic: string; payload: string }[]): Promise<void> {
  const publisher: MqttClient = await connectAsync(mqttUrl, { clientId: uniqueName('publisher'), protocolVersion: 5 });
  try {
    await Promise.all(messages.map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
  } finally {
    await publisher.endAsync();
  }
}

const kinds = ['temp', 'humidity', 'pressure', 'co2'] as const;

function readings(prefix: string, count: number, from = 0): { topic: string; payload: string }[] {
  return Array.from({ length: count }, (_, n) => {
    const i = from + n;
    return { topic: `${prefix}/${kinds[i % kinds.length]}`, payload: JSON.stringify({ id: `e${i}`, value: i / 10 }) };
  });
}

/** What a record should look like in Kafka, for each message published. */
function expected(messages: readonly { topic: string; payload: string }[]): string[] {
  return messages.map((m) => JSON.stringify({ key: m.topic, value: m.payload, header: m.topic })).sort();
}

function seen(records: readonly ReadRecord[]): string[] {
  return records.map((r) => JSON.stringify({ key: r.key, value: r.value, header: r.headers?.['mqtt-topic']?.toString() })).sort();
}

async function stopAll(...sources: (MqttSource | undefined)[]): Promise<void> {
  await Promise.all(sources.map((s) => s?.close()));
}

describe('MQTT source', () => {
  it('moves 1,000 QoS-1 messages into Kafka exactly once, in batches', async () => {
    let sends = 0;
    const counting: OutputProducer = {
      send: (records) => {
        sends++;
        return producer.send(records);
      },
      close: () => producer.close(),
    };
    const { prefix, kafkaTopic, options } = await fixture('bulk', { producer: counting });
    const source = await startMqttSource(options);
    const messages = readings(prefix, 1000);
    try {
      await publish(messages);
      await waitFor('1000 records published', () => source.published === 1000);
    } finally {
      await stopAll(source);
    }
    const records = await readAll(kafkaTopic, 1000);
    expect(records).toHaveLength(1000);
    expect(seen(records)).toEqual(expected(messages));
    expect(source.received).toBe(1000);
    // One round trip per message would be 1000 sends.
    expect(sends).toBeLessThan(250);
  });

  it('delivers what was published while it was down once it starts again with the same client id', async () => {
    const { prefix, kafkaTopic, options } = await fixture('restart');
    const first = await startMqttSource(options);
    await first.close();
    expect(first.received).toBe(0);

    const messages = readings(prefix, 200);
    await publish(messages);

    const second = await startMqttSource(options);
    try {
      await waitFor('200 records published after the restart', () => second.published === 200);
    } finally {
      await stopAll(second);
    }
    const records = await readAll(kafkaTopic, 200);
    expect(records).toHaveLength(200);
    expect(seen(records)).toEqual(expected(messages));
    expect(second.received).toBe(200);
  });

  it('acknowledges and counts a message toRecord rejects, and goes on with the ones after it', async () => {
    const { prefix, kafkaTopic, logger, options } = await fixture('malformed');
    const before = readings(prefix, 5);
    const after = readings(prefix, 5, 5);
    const source = await startMqttSource(options);
    try {
      await publish(before);
      await publish([{ topic: `${prefix}/temp`, payload: 'not json {' }]);
      await publish(after);
      await waitFor('10 records published', () => source.published === 10);
    } finally {
      await stopAll(source);
    }
    expect(source.received).toBe(11);
    const warnings = logger.lines.filter((l) => l.startsWith('warn mqtt source: toRecord rejected a message'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`"mqttTopic":"${prefix}/temp"`);
    expect(warnings[0]).toContain('"rejected":1');

    // Had the rejected message not been acknowledged, the broker would send it again first.
    const last = readings(prefix, 1, 10);
    const again = await startMqttSource(options);
    try {
      await publish(last);
      await waitFor('the message published after the restart', () => again.published === 1);
      expect(again.received).toBe(1);
    } finally {
      await stopAll(again);
    }
    const records = await readAll(kafkaTopic, 11);
    expect(seen(records)).toEqual(expected([...before, ...after, ...last]));
  });

  it('keeps messages unacknowledged while Kafka refuses them, stops at its bound, and retries until they are in', async () => {
    // A real producer behind a switch: sends fail while Kafka is "down".
    let kafkaUp = false;
    const switched: OutputProducer = {
      send: (records) => (kafkaUp ? producer.send(records) : Promise.reject(new Error('Kafka is down (test)'))),
      close: () => producer.close(),
    };
    const { prefix, kafkaTopic, logger, options } = await fixture('backpressure', { producer: switched, maxBatch: 10 });
    const source = await startMqttSource(options);
    const messages = readings(prefix, 120);
    try {
      await publish(messages);
      // maxBatch 10: at most 50 unacknowledged (the batch in flight and four more behind it).
      await waitFor('50 messages taken', () => source.received >= 50);
      // Four failed sends, 100 + 200 + 400 ms apart: the broker had 700 ms and more to send more.
      const failedSends = () => logger.lines.filter((l) => l.startsWith('warn mqtt source: Kafka send failed; retrying the batch')).length;
      await waitFor('four failed sends of the batch', () => failedSends() >= 4);
      // The broker sends no more: none of the 50 was acknowledged.
      expect(source.received).toBe(50);
      expect(source.published).toBe(0);

      kafkaUp = true;
      await waitFor('120 records published', () => source.published === 120, { timeoutMs: 30_000 });
    } finally {
      // close() waits for the batch in flight, which waits for Kafka.
      kafkaUp = true;
      await stopAll(source);
    }
    const records = await readAll(kafkaTopic, 120);
    expect(records).toHaveLength(120);
    expect(seen(records)).toEqual(expected(messages));
    expect(source.received).toBe(120);
  });
});
