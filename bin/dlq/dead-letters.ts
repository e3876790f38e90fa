import { isUtf8 } from 'node:buffer';
import { deadLetterHeaders } from '../../lib/errors/dead-letter.ts';
import { StreamrunError } from '../../lib/errors/streamrun-error.ts';
import type { RecordHeaders } from '../../lib/graph/nodes.ts';
import type { InputRecord, OutputRecord, PartitionOffsets, StreamClient } from '../../lib/kafka/client.ts';

/** What `streamrun dlq` reads from a dead-letter record: where it came from and why it failed. */

export interface DeadLetter {
  /** Where the dead letter sits in the dead-letter topic. */
  readonly partition: number;
  readonly record: InputRecord;
  readonly original: {
    readonly topic: string | undefined;
    readonly partition: number | undefined;
    readonly offset: string | undefined;
    /** Milliseconds since the epoch, as a decimal string. */
    readonly timestamp: string;
  };
  readonly node: string | undefined;
  readonly attempts: number | undefined;
  readonly errorClass: string | undefined;
  readonly errorMessage: string | undefined;
  readonly errorStack: string | undefined;
  readonly appId: string | undefined;
  /** Milliseconds since the epoch. */
  readonly deadLetteredAt: number | undefined;
}

export function readDeadLetter(partition: number, record: InputRecord): DeadLetter {
  const h = deadLetterHeaders;
  const text = (name: string) => headerText(record.headers, name);
  const number = (name: string) => {
    const value = text(name);
    return value === undefined || value === '' || !Number.isFinite(Number(value)) ? undefined : Number(value);
  };
  return {
    partition,
    record,
    original: {
      topic: text(h.topic) || undefined,
      partition: number(h.partition),
      offset: text(h.offset),
      // The dead letter keeps the original timestamp; the header says so even if a tool rewrote it.
      timestamp: text(h.timestamp) || record.timestamp,
    },
    node: text(h.node) || undefined,
    attempts: number(h.attempts),
    errorClass: text(h.errorClass) || undefined,
    errorMessage: text(h.errorMessage),
    errorStack: text(h.errorStack),
    appId: text(h.appId),
    deadLetteredAt: number(h.deadLetteredAt),
  };
}

/** One condition on a dead letter; a list of them must all hold. */
export interface Condition {
  readonly field: 'node' | 'error-class';
  readonly value: string;
}

/** Parses `node=<name>` or `error-class=<name>` (a `--where` value); undefined for anything else. */
export function parseCondition(text: string): Condition | undefined {
  const match = /^(node|error-class)=(.+)$/.exec(text);
  return match === null ? undefined : { field: match[1] as Condition['field'], value: match[2]! };
}

export function matches(letter: DeadLetter, conditions: readonly Condition[]): boolean {
  return conditions.every((c) => (c.field === 'node' ? letter.node : letter.errorClass) === c.value);
}

/**
 * The record as it was before it failed: its key, value, timestamp and own headers, without any
 * `streamrun.*` header, so the topology sees it as it first did.
 */
export function originalRecord(letter: DeadLetter, partition: number | undefined): OutputRecord {
  const headers: Record<string, Buffer | string | (Buffer | string)[]> = {};
  for (const [name, value] of Object.entries(letter.record.headers ?? {})) {
    if (value !== undefined && !name.startsWith('streamrun.')) headers[name] = value;
  }
  return {
    ...(partition === undefined ? {} : { partition }),
    key: letter.record.key,
    value: letter.record.value,
    timestamp: letter.original.timestamp,
    headers,
  };
}

/** Low and high watermark of each partition of a topic that must exist. */
export async function watermarks(client: StreamClient, topic: string): Promise<Map<number, PartitionOffsets>> {
  await mustExist(client, [topic]);
  return client.offsets(topic);
}

/** Partition counts of topics that must all exist. */
export async function mustExist(client: StreamClient, topics: readonly string[]): Promise<Map<string, number>> {
  const counts = await client.partitionCounts(topics);
  const missing = topics.find((t) => !counts.has(t));
  if (missing !== undefined) throw new StreamrunError('INVALID_OPTIONS', `topic ${missing} does not exist`);
  return counts;
}

/**
 * Reads `[from, until)` of each partition, partition after partition, outside any consumer
 * group's assignment and without committing anything.
 */
export async function readRanges(
  client: StreamClient,
  topic: string,
  ranges: ReadonlyMap<number, { readonly from: string; readonly until: string }>,
  onLetters: (letters: DeadLetter[]) => Promise<void> | void,
): Promise<void> {
  const wanted = [...ranges].filter(([, r]) => BigInt(r.from) < BigInt(r.until)).sort(([a], [b]) => a - b);
  if (wanted.length === 0) return;
  const reader = await client.changelogReader([topic]);
  try {
    for (const [partition, { from, until }] of wanted) {
      await reader.read(topic, partition, from, until, async (records) => {
        await onLetters(records.map((r) => readDeadLetter(partition, r)));
      });
    }
  } finally {
    await reader.close();
  }
}

/** The number of offsets in `[from, until)`, zero when the range is empty. */
export function span(from: string | bigint, until: string | bigint): number {
  const n = BigInt(until) - BigInt(from);
  return n > 0n ? Number(n) : 0;
}

/** Bytes as text: UTF-8 when they are valid UTF-8, otherwise base64 (and `base64` says so). */
export function bytesText(bytes: Buffer | string): { text: string; base64: boolean } {
  if (typeof bytes === 'string') return { text: bytes, base64: false };
  return isUtf8(bytes) ? { text: bytes.toString('utf8'), base64: false } : { text: bytes.toString('base64'), base64: true };
}

function headerText(headers: RecordHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  // A header set twice: the last one counts, as in Kafka's own `lastHeader`.
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return last === undefined ? undefined : typeof last === 'string' ? last : last.toString('utf8');
}
