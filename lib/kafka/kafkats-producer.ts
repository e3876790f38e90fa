import { KafkaProtocolError, Producer, type Cluster, type ProducerMessage, type SendResult } from '@kafkats/client';
import { StreamrunError } from '../errors/streamrun-error.ts';
import type { RecordHeaders } from '../graph/nodes.ts';
import type { Logger } from '../runtime/logger.ts';
import type { OutputProducer, OutputRecord, ProducedOffset } from './client.ts';
import { metadata } from './kafkats-admin.ts';
import { partitionOfKey } from './murmur2.ts';
import { maxRequestBytes, recordSize } from './record-size.ts';

/**
 * The runtime's producer on kafkats: idempotent, acks=all. Every record's partition is chosen
 * here, as KafkaJS's default partitioner chooses it, and handed to kafkats explicitly, so the
 * two clients put each key in the same place whatever kafkats's own partitioner does.
 *
 * kafkats keeps one request in flight per partition and retries a batch with its sequence
 * numbers, so a partition's records stay in order. When it gives up on a batch whose fate it
 * does not know, it takes a new producer epoch and rejects everything in flight; if that
 * re-initialisation fails, the producer refuses every later send. So a producer that failed a
 * send is retired: what it still carries finishes, and later sends get a new one.
 */
export async function openKafkatsProducer(cluster: Cluster, logger: Logger): Promise<OutputProducer> {
  const layouts = layoutCache(cluster);
  let producer = idempotentProducer(cluster);
  const retiring = new Set<Promise<void>>();
  const retire = (failed: Producer) => {
    if (failed !== producer) return;
    producer = idempotentProducer(cluster);
    logger.warn('the kafkats producer failed a send; later sends go through a new one');
    const done = failed
      .flush()
      .then(() => failed.disconnect())
      .catch(() => {})
      .finally(() => retiring.delete(done));
    retiring.add(done);
  };
  return {
    async send(records) {
      const current = producer;
      const rounds = await placed(records, layouts);
      const watchdog = leaderWatch(cluster, [...records.keys()]);
      try {
        return await sendRounds(rounds, (topic, messages) => current.send(topic, messages));
      } catch (error) {
        retire(current);
        throw error;
      } finally {
        clearInterval(watchdog);
      }
    },
    async close() {
      await producer.disconnect();
      await Promise.all(retiring);
    },
  };
}

/**
 * kafkats learns that a partition's leader moved only from a broker's answer: when the leader is
 * gone, its retries keep trying to connect to it, and a send stalls until that broker is back
 * or the retries run out (a killed broker of three: 50 s). So a send still in flight after a
 * second asks for its topics' metadata every second, and the next retry finds the new leader.
 */
export function leaderWatch(cluster: Cluster, topics: string[]): NodeJS.Timeout {
  const watch = setInterval(() => void cluster.refreshMetadata(topics).catch(() => {}), 1000);
  watch.unref();
  return watch;
}

/**
 * Sends `rounds` (see `placed`) through `send`, round after round: a partition's later records
 * go out only once its earlier ones are in. Resolves with where each partition's records start.
 */
export async function sendRounds(rounds: readonly Round[], send: (topic: string, messages: KafkatsMessage[]) => Promise<SendResult[]>): Promise<ProducedOffset[]> {
  const acks = new Map<string, ProducedOffset>();
  for (const round of rounds) {
    await Promise.all(
      [...round].map(async ([topic, messages]) => {
        for (const r of await send(topic, messages)) {
          const key = `${topic}:${r.partition}`;
          if (!acks.has(key)) acks.set(key, { topic, partition: r.partition, baseOffset: String(r.offset) });
        }
      }),
    );
  }
  return [...acks.values()];
}

/** How kafkats retries a batch: with its sequence numbers, without writing it twice; about a minute, as KafkaJS's producer gets, before a send rejects. */
export const kafkatsRetries = { retries: 20, retryBackoffMs: 100, maxRetryBackoffMs: 5000 } as const;

function idempotentProducer(cluster: Cluster): Producer {
  return new Producer(cluster, {
    idempotent: true,
    acks: 'all',
    // A send's records are batched by the send itself; nothing is gained by waiting for more.
    lingerMs: 0,
    ...kafkatsRetries,
  });
}

/** What the partitioner needs of a topic. */
interface Layout {
  readonly partitions: number;
  /** The partitions that had a leader: where records without a key go, in turn. */
  readonly available: readonly number[];
  /** Where the round-robin over `available` is, from a random start as KafkaJS's. */
  counter: number;
  readonly fetchedAt: number;
}

/** As long as KafkaJS keeps metadata (its metadataMaxAge): a topic's partitions can be added. */
const layoutTtlMs = 300_000;

export type Layouts = (topic: string) => Promise<Layout>;

export function layoutCache(cluster: Cluster): Layouts {
  const layouts = new Map<string, Layout>();
  return async (topic) => {
    const cached = layouts.get(topic);
    if (cached !== undefined && Date.now() - cached.fetchedAt < layoutTtlMs) return cached;
    const [answer] = (await metadata(cluster, [topic])).topics;
    if (answer === undefined || answer.errorCode !== 0) throw new KafkaProtocolError(answer?.errorCode ?? 3, `metadata of ${topic}`);
    const layout = {
      // Every partition counts, a leaderless one too: murmur2 divides by all of them.
      partitions: answer.partitions.length,
      available: answer.partitions.filter((p) => p.leaderId >= 0).map((p) => p.partitionIndex),
      counter: Math.floor(Math.random() * 2 ** 31),
      fetchedAt: Date.now(),
    };
    layouts.set(topic, layout);
    return layout;
  };
}

/** The partition KafkaJS's default partitioner gives `record` (see kafkajs-producer.ts's `partitioner`). */
function partitionOf(record: OutputRecord, layout: Layout): number {
  if (record.partition !== undefined) return record.partition;
  const key = record.partitionKey ?? record.key;
  if (key !== null) return partitionOfKey(key, layout.partitions);
  layout.counter = (layout.counter + 1) | 0;
  const turn = layout.counter & 0x7fffffff;
  return layout.available.length > 0 ? layout.available[turn % layout.available.length]! : turn % layout.partitions;
}

type KafkatsMessage = ProducerMessage<Buffer, Buffer>;
type Round = Map<string, KafkatsMessage[]>;

/**
 * The records as kafkats messages with their partitions, in rounds: round i holds the i-th
 * piece of at most `maxRequestBytes` of each partition, so no batch is too big for the broker.
 */
export async function placed(records: ReadonlyMap<string, readonly OutputRecord[]>, layouts: Layouts): Promise<Round[]> {
  const rounds: Round[] = [];
  for (const [topic, list] of records) {
    if (list.length === 0) continue;
    const layout = await layouts(topic);
    const pieces = new Map<number, { round: number; bytes: number }>();
    for (const record of list) {
      const partition = partitionOf(record, layout);
      const size = recordSize(record);
      let piece = pieces.get(partition);
      if (piece === undefined) pieces.set(partition, (piece = { round: 0, bytes: 0 }));
      else if (piece.bytes + size > maxRequestBytes) {
        piece.round++;
        piece.bytes = 0;
      }
      piece.bytes += size;
      const round = rounds[piece.round] ?? (rounds[piece.round] = new Map());
      let messages = round.get(topic);
      if (messages === undefined) round.set(topic, (messages = []));
      messages.push(message(topic, partition, record));
    }
  }
  return rounds;
}

function message(topic: string, partition: number, record: OutputRecord): KafkatsMessage {
  return {
    partition,
    key: record.key,
    value: record.value,
    ...(record.timestamp === undefined ? {} : { timestamp: new Date(Number(record.timestamp)) }),
    ...(record.headers === undefined ? {} : { headers: headers(topic, record.headers) }),
  };
}

/**
 * kafkats writes one value per header name, never a null one: a header repeated, or without a
 * value (KafkaJS writes both), cannot be written as it is, and is refused rather than changed.
 */
function headers(topic: string, given: RecordHeaders): Record<string, Buffer | string> {
  const out: Record<string, Buffer | string> = {};
  for (const [name, value] of Object.entries(given)) {
    if (Array.isArray(value) && value.length === 0) continue;
    const only = Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
    if (only === undefined || only === null) {
      throw new StreamrunError('REJECTED', `header ${name} ${Array.isArray(value) ? 'repeats' : 'has no value'}: the kafkats client writes one value per header`, {
        context: { topic },
      });
    }
    out[name] = only;
  }
  return out;
}
