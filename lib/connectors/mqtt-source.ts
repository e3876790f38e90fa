import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { MqttClient, connect, type DoneCallback, type IClientOptions, type IConnackPacket, type IPublishPacket, type Packet } from 'mqtt';
import { invalidOptions, StreamrunError } from '../errors/streamrun-error.ts';
import type { OutputProducer, OutputRecord } from '../kafka/client.ts';
import type { Logger } from '../runtime/logger.ts';

/**
 * Ingests MQTT messages into a Kafka topic at least once: a QoS-1 message is acknowledged to the
 * MQTT broker (PUBACK) only after Kafka acknowledged its record, so whatever was not yet in
 * Kafka when the connector stops or crashes comes again from the broker's persistent session.
 */

export interface MqttSourceOptions {
  /** e.g. mqtt://127.0.0.1:1883 */
  readonly url: string;
  /** MQTT topic filters, e.g. ['sensors/+/+'] */
  readonly topics: readonly string[];
  /** Kafka topic the messages go to */
  readonly kafkaTopic: string;
  /** Stable client id: with a persistent session (clean: false) the broker keeps QoS-1 messages for us while we are away. */
  readonly clientId: string;
  /** Turns one MQTT message into the Kafka record (key, value, headers). */
  readonly toRecord: (mqttTopic: string, payload: Buffer) => { key: Buffer | null; value: Buffer | null; headers?: Record<string, string> };
  readonly producer: OutputProducer;
  readonly logger: Logger;
  /** Counts messages published to Kafka ('accepted') and those toRecord rejected ('refused'). */
  readonly ingested?: (outcome: 'accepted' | 'refused', messages: number) => void;
  /** Messages gathered into one Kafka send; default 500. */
  readonly maxBatch?: number;
  /** How long a partial batch waits; default 5 ms. */
  readonly lingerMs?: number;
}

export interface MqttSource {
  /** Messages taken from the broker, counting those toRecord rejected and any redelivered copies. */
  readonly received: number;
  /** Records Kafka acknowledged. */
  readonly published: number;
  /** Stops taking messages, sends what was taken to Kafka, acknowledges it to MQTT, disconnects. */
  close(): Promise<void>;
}

/**
 * Connects, subscribes at QoS 1 and starts moving messages; resolves once subscribed.
 *
 * @example
 * const source = await startMqttSource({
 *   url: 'mqtt://127.0.0.1:1883',
 *   topics: ['sensors/+/+'],
 *   kafkaTopic: 'sensor-readings',
 *   clientId: 'sensor-ingest',
 *   toRecord: (topic, payload) => ({ key: Buffer.from(topic), value: payload }),
 *   producer: await client.producer(),
 *   logger,
 * });
 * // ... later
 * await source.close();
 */
export async function startMqttSource(options: MqttSourceOptions): Promise<MqttSource> {
  const settings = validate(options);
  const source = new MqttSourceImpl(options, settings);
  await source.start();
  return source;
}

interface Settings {
  readonly maxBatch: number;
  readonly lingerMs: number;
  /** Messages taken and not yet acknowledged, at most: the batch in flight and the queue behind it. */
  readonly maxUnacked: number;
}

const defaults = { maxBatch: 500, lingerMs: 5 } as const;
/** The largest Receive Maximum MQTT 5 can express. */
const maxReceiveMaximum = 0xffff;
/** MQTT 5: a session that never expires, like a clean: false session of MQTT 3.1.1. */
const sessionNeverExpires = 0xffffffff;
/** MQTT 5 reason code for a PUBACK: "Payload format invalid"; the broker still counts the message delivered. */
const payloadFormatInvalid = 0x99;
const retryBackoff = { initialMs: 100, maxMs: 5000 } as const;

function validate(options: MqttSourceOptions): Settings {
  const maxBatch = options.maxBatch ?? defaults.maxBatch;
  const lingerMs = options.lingerMs ?? defaults.lingerMs;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw invalid(`maxBatch must be a positive integer, got ${maxBatch}`);
  if (!Number.isFinite(lingerMs) || lingerMs < 0) throw invalid(`lingerMs must be zero or more, got ${lingerMs}`);
  if (options.topics.length === 0) throw invalid('topics must name at least one MQTT topic filter');
  if (options.clientId === '') throw invalid('clientId must be set: the broker keeps the session under it');
  if (options.kafkaTopic === '') throw invalid('kafkaTopic must be set');
  return { maxBatch, lingerMs, maxUnacked: Math.min(maxBatch * 5, maxReceiveMaximum) };
}

function invalid(message: string): StreamrunError {
  return invalidOptions(`mqtt source: ${message}`);
}

/** A message taken from the broker, waiting for Kafka and then for its PUBACK. */
interface Taken {
  /** Null when toRecord rejected the message: it is acknowledged without a record. */
  readonly record: OutputRecord | null;
  /** Undefined for QoS 0: nothing to acknowledge. */
  readonly messageId: number | undefined;
  /** The connection it came on: a PUBACK on any other would acknowledge whatever the broker gave that id there. */
  readonly connection: unknown;
}

type PubackPacket = Extract<Packet, { cmd: 'puback' }>;

/**
 * mqtt.js handles incoming packets strictly one at a time and sends a PUBACK only when
 * handleMessage's (or customHandleAcks') callback is called: holding the callback until Kafka
 * acknowledged would mean one Kafka round trip per message. So handleMessage fails its callback
 * with this marker, which makes mqtt.js go on to the next packet without acknowledging, and the
 * PUBACKs go out through the client's own packet writer once the batch is in Kafka.
 */
const acknowledgeLater = new Error('mqtt source: PUBACK deferred until Kafka acknowledged the record');

interface PacketWriter {
  _sendPacket(packet: PubackPacket, callback: (error?: Error) => void): void;
}

function hasPacketWriter(): boolean {
  const prototype: unknown = MqttClient.prototype;
  return typeof (prototype as Partial<PacketWriter>)._sendPacket === 'function';
}

class MqttSourceImpl implements MqttSource {
  readonly #options: MqttSourceOptions;
  readonly #settings: Settings;
  readonly #logger: Logger;
  readonly #client: MqttClient;
  readonly #writer: PacketWriter;
  #received = 0;
  #published = 0;
  #rejected = 0;
  /** Taken, not yet in a batch. */
  #queue: Taken[] = [];
  /** When the oldest message in the queue arrived (performance.now()). */
  #queuedSince = 0;
  #inFlight: Promise<void> | undefined;
  #inFlightSize = 0;
  #lingerTimer: NodeJS.Timeout | undefined;
  /** mqtt.js callbacks held back because too many messages are unacknowledged: the client stops reading. */
  #held: (() => void)[] = [];
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(options: MqttSourceOptions, settings: Settings) {
    this.#options = options;
    this.#settings = settings;
    this.#logger = options.logger;
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      // MQTT 5 for Receive Maximum and a session that outlives the connection; with MQTT 5,
      // clean: false alone keeps the session only while connected (Session Expiry Interval 0).
      protocolVersion: 5,
      clean: false,
      properties: {
        sessionExpiryInterval: sessionNeverExpires,
        // The broker sends at most this many QoS-1 messages we have not acknowledged: our
        // memory bound, with no need to stop reading the socket (which would stall keepalive).
        receiveMaximum: settings.maxUnacked,
      },
      reconnectPeriod: 1000,
    };
    if (!hasPacketWriter()) {
      // Without it no message would ever be acknowledged; better not to start.
      throw new Error('mqtt source: this mqtt.js version has no MqttClient._sendPacket, which the connector needs to acknowledge messages');
    }
    // handleMessage is ours before this tick ends, so before any packet is read: a resumed
    // session delivers queued messages right after CONNACK, before any subscribe, and mqtt.js's
    // own handleMessage would PUBACK them. (Not manualConnect: with it, end() after a failed
    // first connect leaves mqtt.js reconnecting for ever.)
    this.#client = connect(options.url, clientOptions);
    this.#client.handleMessage = (packet, callback) => this.#take(packet, callback);
    this.#client.on('error', (error) => this.#logger.warn(`mqtt source: ${error.message}`, { clientId: options.clientId, error }));
    const writer: unknown = this.#client;
    this.#writer = writer as PacketWriter;
  }

  get received(): number {
    return this.#received;
  }

  get published(): number {
    return this.#published;
  }

  async start(): Promise<void> {
    const client = this.#client;
    const { url, clientId, topics } = this.#options;
    let sessionPresent: boolean;
    try {
      sessionPresent = await new Promise<boolean>((resolve, reject) => {
        const fail = (error: Error) => {
          client.off('connect', succeed);
          reject(error);
        };
        const succeed = (connack: IConnackPacket) => {
          client.off('error', fail);
          resolve(connack.sessionPresent);
        };
        client.once('connect', succeed);
        client.once('error', fail);
      });
    } catch (error) {
      client.end(true);
      throw new StreamrunError('BROKER_UNREACHABLE', `mqtt source: cannot connect to ${url} as ${clientId}: ${message(error)}`, {
        cause: error,
        retriable: true,
      });
    }
    this.#logger.info('mqtt source: connected', { url, clientId, sessionPresent });
    this.#watch();
    try {
      // rh 1: retained messages only when the subscription is new, not again on every start.
      const granted = await client.subscribeAsync([...topics], { qos: 1, rh: 1 });
      const downgraded = granted.filter((g) => g.qos === 0).map((g) => g.topic);
      if (downgraded.length > 0) {
        this.#logger.warn('mqtt source: the broker granted QoS 0: messages on these topics can be lost', { topics: downgraded });
      }
    } catch (error) {
      await client.endAsync(true);
      throw new StreamrunError('TOPIC_SETUP', `mqtt source: cannot subscribe to ${topics.join(', ')}: ${message(error)}`, { cause: error });
    }
    this.#logger.info('mqtt source: subscribed', { topics, kafkaTopic: this.#options.kafkaTopic });
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#lingerTimer);
    while (this.#inFlight !== undefined || this.#queue.length > 0) {
      if (this.#inFlight === undefined) this.#startBatch();
      await this.#inFlight;
    }
    // Whatever mqtt.js still hands over now is left unacknowledged, for the next session.
    this.#releaseHeld();
    await this.#client.endAsync();
    this.#logger.info('mqtt source: closed', { received: this.#received, published: this.#published, rejected: this.#rejected });
  }

  #watch(): void {
    const client = this.#client;
    const { clientId } = this.#options;
    client.on('connect', (connack) => {
      // Not resumed means the broker forgot what it held for us while we were away.
      if (connack.sessionPresent) this.#logger.info('mqtt source: reconnected', { clientId });
      else this.#logger.warn('mqtt source: reconnected without a session: messages published while disconnected may be gone', { clientId });
    });
    client.on('offline', () => this.#logger.warn('mqtt source: disconnected; reconnecting', { clientId }));
    client.on('disconnect', (packet) => this.#logger.warn('mqtt source: the broker disconnected us', { clientId, reasonCode: packet.reasonCode }));
  }

  #take(packet: IPublishPacket, callback: DoneCallback): void {
    // We subscribe at QoS 1, so QoS 2 never comes; QoS 0 has nothing to acknowledge.
    const qos1 = packet.qos === 1;
    if (this.#closing) {
      // Not acknowledged, so the broker keeps it for the next session.
      callback(qos1 ? acknowledgeLater : undefined);
      return;
    }
    this.#received++;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    let record: OutputRecord | null;
    try {
      record = this.#options.toRecord(packet.topic, payload);
    } catch (error) {
      // No dead-letter topic at this layer: holding it back would only stall what comes after.
      record = null;
      this.#rejected++;
      this.#options.ingested?.('refused', 1);
      this.#logger.warn('mqtt source: toRecord rejected a message; acknowledging it without a Kafka record', {
        mqttTopic: packet.topic,
        bytes: payload.length,
        rejected: this.#rejected,
        error,
      });
    }
    if (this.#queue.length === 0) this.#queuedSince = performance.now();
    this.#queue.push({ record, messageId: qos1 ? packet.messageId : undefined, connection: this.#client.stream });
    const release = () => callback(qos1 ? acknowledgeLater : undefined);
    // Past Receive Maximum only if the broker ignores it, or if it sent again what we still hold
    // from a connection since closed: stop reading then.
    if (this.#unacked() > this.#settings.maxUnacked) this.#held.push(release);
    else release();
    this.#schedule();
  }

  #unacked(): number {
    return this.#queue.length + this.#inFlightSize;
  }

  #schedule(): void {
    if (this.#inFlight !== undefined || this.#queue.length === 0) return;
    if (this.#queue.length >= this.#settings.maxBatch || this.#closing) {
      this.#startBatch();
      return;
    }
    if (this.#lingerTimer !== undefined) return;
    const remainingMs = this.#settings.lingerMs - (performance.now() - this.#queuedSince);
    if (remainingMs <= 0) this.#startBatch();
    else this.#lingerTimer = setTimeout(() => this.#startBatch(), remainingMs);
  }

  #startBatch(): void {
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
    if (this.#inFlight !== undefined || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#settings.maxBatch);
    this.#inFlightSize = batch.length;
    this.#inFlight = this.#deliver(batch).then(() => {
      this.#inFlight = undefined;
      this.#inFlightSize = 0;
      this.#releaseHeld();
      this.#schedule();
    });
  }

  /** Never rejects: a batch is retried until Kafka takes it, then acknowledged. */
  async #deliver(batch: readonly Taken[]): Promise<void> {
    const records: OutputRecord[] = [];
    for (const taken of batch) if (taken.record !== null) records.push(taken.record);
    const { kafkaTopic } = this.#options;
    let backoffMs: number = retryBackoff.initialMs;
    for (let attempt = 1; records.length > 0; attempt++) {
      try {
        await this.#options.producer.send(new Map([[kafkaTopic, records]]));
        break;
      } catch (error) {
        this.#logger.warn('mqtt source: Kafka send failed; retrying the batch (its messages stay unacknowledged)', {
          kafkaTopic,
          records: records.length,
          attempt,
          retryInMs: backoffMs,
          error,
        });
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, retryBackoff.maxMs);
      }
    }
    this.#published += records.length;
    if (records.length > 0) this.#options.ingested?.('accepted', records.length);
    try {
      this.#acknowledge(batch);
    } catch (error) {
      // Unacknowledged messages come again after the next reconnect; the batch is done either way.
      this.#logger.error('mqtt source: could not acknowledge a batch that is in Kafka', { messages: batch.length, error });
    }
  }

  /** PUBACKs in the order the messages came, as MQTT requires. */
  #acknowledge(batch: readonly Taken[]): void {
    const client = this.#client;
    const current = client.connected ? client.stream : undefined;
    let stale = 0;
    for (const taken of batch) {
      if (taken.messageId === undefined) continue;
      if (taken.connection !== current) {
        stale++;
        continue;
      }
      const puback: PubackPacket = { cmd: 'puback', messageId: taken.messageId };
      if (taken.record === null) puback.reasonCode = payloadFormatInvalid;
      this.#writer._sendPacket(puback, (error) => {
        if (error) this.#logger.warn('mqtt source: PUBACK not sent; the broker will send the message again', { error });
      });
    }
    if (stale > 0) {
      this.#logger.info('mqtt source: messages in Kafka arrived on a connection since closed; the broker sends them again', {
        messages: stale,
      });
    }
  }

  #releaseHeld(): void {
    while (this.#closing || this.#unacked() <= this.#settings.maxUnacked) {
      const release = this.#held.shift();
      if (release === undefined) return;
      release();
    }
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
