/**
 * The load generator: fills a topic with bench events as fast as the client goes, or at a fixed
 * rate so latency can be measured at a known load.
 *
 *   node --conditions=streamrun-source --import tsx bench/produce.ts --topic sensor-events --events 1000000 [--rate 50000]
 */
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
// Before kafkajs: the linear grouping of a send's messages streamrun uses, so loads go out fast.
import '../lib/kafka/kafkajs-grouping.ts';
import { Kafka, logLevel, Partitioners, type Message, type Producer } from 'kafkajs';
import { benchEvent, type BenchFormat } from './lib/events.ts';

export interface ProduceOptions {
  readonly brokers: string;
  readonly topic: string;
  readonly events: number;
  /** Events per second; absent: as fast as possible. */
  readonly rate?: number | undefined;
  /** The first event's number, so several loads can share a topic without repeating ids. */
  readonly from?: number;
  readonly onProgress?: (produced: number) => void;
  /** JSON (the default) or Avro. */
  readonly format?: BenchFormat;
}

const batchSize = 2000;
/** Sends in flight at full speed: enough to keep the broker busy, few enough to keep order sane. */
const inFlight = 4;
/** At a fixed rate, a batch goes out every this many ms. */
const tickMs = 10;

export async function produceEvents(options: ProduceOptions): Promise<void> {
  const kafka = new Kafka({ clientId: 'streamrun-bench-load', brokers: options.brokers.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    if (options.rate === undefined) await flatOut(producer, options);
    else await paced(producer, options, options.rate);
  } finally {
    await producer.disconnect();
  }
}

function messages(from: number, count: number, format: BenchFormat = 'json'): Message[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => benchEvent(from + i, now, format));
}

async function flatOut(producer: Producer, { topic, events, from = 0, onProgress, format }: ProduceOptions): Promise<void> {
  let next = 0;
  let produced = 0;
  const lane = async () => {
    while (next < events) {
      const start = next;
      const count = Math.min(batchSize, events - start);
      next += count;
      await producer.send({ topic, acks: -1, messages: messages(from + start, count, format) });
      produced += count;
      onProgress?.(produced);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

/**
 * Sends what is due every tick, in batches of at most `batchSize`, with at most `inFlight` sends
 * outstanding: a generator that falls behind sends late (the latency it measures then includes
 * its own delay) but never builds one oversized request or an unbounded queue.
 */
async function paced(producer: Producer, { topic, events, from = 0, onProgress, format }: ProduceOptions, rate: number): Promise<void> {
  const started = performance.now();
  let sent = 0;
  const outstanding = new Set<Promise<unknown>>();
  while (sent < events) {
    const due = Math.min(events, Math.floor(((performance.now() - started) / 1000) * rate));
    while (sent < due) {
      const count = Math.min(batchSize, due - sent);
      const send = producer.send({ topic, acks: -1, messages: messages(from + sent, count, format) });
      outstanding.add(send);
      void send.finally(() => outstanding.delete(send)).catch(() => {});
      sent += count;
      if (outstanding.size >= inFlight) await Promise.race(outstanding);
    }
    onProgress?.(sent);
    await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
  await Promise.all(outstanding);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flags = new Command()
    .requiredOption('--topic <topic>', 'topic to fill (must exist)')
    .option('--events <n>', 'how many events', (v) => Number.parseInt(v, 10), 1_000_000)
    .option('--rate <perSecond>', 'events per second (default: as fast as possible)', (v) => Number.parseInt(v, 10))
    .option('--brokers <list>', 'bootstrap brokers', process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092')
    .parse()
    .opts<{ topic: string; events: number; rate?: number; brokers: string }>();
  const started = performance.now();
  await produceEvents({ brokers: flags.brokers, topic: flags.topic, events: flags.events, rate: flags.rate });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`produced ${flags.events} events to ${flags.topic} in ${seconds.toFixed(1)} s (${Math.round(flags.events / seconds)}/s)\n`);
}
