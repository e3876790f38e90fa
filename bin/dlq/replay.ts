import { deadLetterHeaders } from '../../lib/errors/dead-letter.ts';
import { StreamrunError } from '../../lib/errors/streamrun-error.ts';
import type { InputBatch, OutputRecord, StreamClient } from '../../lib/kafka/client.ts';
import {
  matches,
  mustExist,
  originalRecord,
  readDeadLetter,
  readRanges,
  span,
  watermarks,
  type Condition,
  type DeadLetter,
} from './dead-letters.ts';
import type { Output, Progress } from './output.ts';
import type { Logger } from '../../lib/runtime/logger.ts';

export interface ReplayOptions {
  /** The dead-letter topic. */
  readonly topic: string;
  /** Send every record here (partitioned by key) instead of to the topic it came from. */
  readonly to: string | undefined;
  /** All must hold for a dead letter to be replayed; the others are passed over. */
  readonly conditions: readonly Condition[];
  /** Names the consumer group that remembers how far this replay got. */
  readonly replayId: string;
  /** Says what would be replayed; sends and commits nothing. */
  readonly dryRun: boolean;
  /** At debug level: the plan, and each batch replayed and committed. */
  readonly logger: Logger;
}

/** The consumer group that remembers, per partition of the dead-letter topic, how far a replay got. */
export const replayGroup = (replayId: string): string => `streamrun-dlq-replay-${replayId}`;

interface Range {
  readonly from: string;
  readonly until: string;
}

interface Counts {
  replayed: number;
  skipped: number;
}

/**
 * Sends each dead letter's original record (key, value, timestamp, own headers) back to the
 * topic and partition it came from, or to `to`. It reads from the replay group's committed
 * position up to the ends the topic had when it started, and commits a batch's offsets only
 * once the broker acknowledged the records replayed from it: a second run with the same replay
 * id finds nothing new, a crash between the two replays at most that batch again.
 */
export async function replay(client: StreamClient, options: ReplayOptions, output: Output): Promise<number> {
  const { topic } = options;
  const marks = await watermarks(client, topic);
  const targets = new Targets(client, options.to);
  if (options.to !== undefined) await targets.ensure([options.to]);
  const committed = await client.committedOffsets(replayGroup(options.replayId), topic);

  const plan = new Map<number, Range>();
  let before = 0;
  let pending = 0;
  for (const [partition, { low, high }] of marks) {
    const position = committed.get(partition);
    const from = position === undefined || BigInt(position) < BigInt(low) ? low : position;
    if (position !== undefined) before += span(low, BigInt(position) < BigInt(high) ? position : high);
    pending += span(from, high);
    if (span(from, high) > 0) plan.set(partition, { from, until: high });
  }

  options.logger.debug('replay plan', {
    group: replayGroup(options.replayId),
    watermarks: Object.fromEntries([...marks].map(([p, m]) => [p, `${m.low}-${m.high}`])),
    committed: Object.fromEntries(committed),
    plan: Object.fromEntries([...plan].map(([p, r]) => [p, `${r.from}-${r.until}`])),
  });
  const counts: Counts = { replayed: 0, skipped: 0 };
  if (plan.size > 0) {
    const progress = output.progress(options.dryRun ? 'checking' : 'replaying', pending);
    try {
      if (options.dryRun) await dryRun(client, options, plan, targets, counts, progress, output);
      else await replayThroughGroup(client, options, plan, targets, counts, progress);
    } finally {
      progress.done();
    }
  }
  const tally = `skipped by filter ${counts.skipped}, already replayed before ${before}`;
  output.out(options.dryRun ? `dry run: would replay ${counts.replayed}, ${tally}` : `replayed ${counts.replayed}, ${tally}`);
  return 0;
}

async function dryRun(
  client: StreamClient,
  options: ReplayOptions,
  plan: ReadonlyMap<number, Range>,
  targets: Targets,
  counts: Counts,
  progress: Progress,
  output: Output,
): Promise<void> {
  await readRanges(client, options.topic, plan, async (letters) => {
    const chosen = letters.filter((l) => matches(l, options.conditions));
    await targets.ensure(chosen.map((l) => targets.topicOf(l)));
    for (const letter of chosen) {
      const { topic, partition } = targets.route(letter);
      output.out(`would replay ${options.topic}/${letter.partition}/${letter.record.offset} to ${topic}/${partition ?? 'by key'}`);
    }
    counts.replayed += chosen.length;
    counts.skipped += letters.length - chosen.length;
    progress.advance(letters.length);
  });
}

async function replayThroughGroup(
  client: StreamClient,
  options: ReplayOptions,
  plan: ReadonlyMap<number, Range>,
  targets: Targets,
  counts: Counts,
  progress: Progress,
): Promise<void> {
  const producer = await client.producer();
  const consumer = client.consumer(replayGroup(options.replayId));
  const remaining = new Set(plan.keys());
  let failed = false;
  let finish!: () => void;
  let fail!: (error: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = (error) => {
      failed = true;
      reject(error);
    };
  });
  const partitionDone = (partition: number) => {
    remaining.delete(partition);
    if (remaining.size === 0) finish();
  };

  const onBatch = async (batch: InputBatch, commit: (offset: string) => Promise<void>) => {
    const range = plan.get(batch.partition);
    // Partitions with nothing to replay, or done already, may still get dead letters written since.
    if (range === undefined || !remaining.has(batch.partition) || batch.records.length === 0) return;
    const until = BigInt(range.until);
    const letters = batch.records.filter((r) => BigInt(r.offset) < until).map((r) => readDeadLetter(batch.partition, r));
    // The group stood past our end already (another replay with this id ran meanwhile).
    if (letters.length === 0) return partitionDone(batch.partition);

    const chosen = letters.filter((l) => matches(l, options.conditions));
    await targets.ensure(chosen.map((l) => targets.topicOf(l)));
    const records = new Map<string, OutputRecord[]>();
    for (const letter of chosen) {
      const { topic, partition } = targets.route(letter);
      let list = records.get(topic);
      if (list === undefined) records.set(topic, (list = []));
      list.push(originalRecord(letter, partition));
    }
    // Acknowledged (acks=all) before the dead letters' offsets are committed.
    await producer.send(records);
    const next = BigInt(letters[letters.length - 1]!.record.offset) + 1n;
    await commit(String(next));
    options.logger.debug('replayed a batch', {
      partition: batch.partition,
      offsets: `${letters[0]!.record.offset}-${letters[letters.length - 1]!.record.offset}`,
      replayed: chosen.length,
      committed: String(next),
    });
    counts.replayed += chosen.length;
    counts.skipped += letters.length - chosen.length;
    progress.advance(letters.length);
    if (next >= until) partitionDone(batch.partition);
  };

  try {
    await consumer.start([options.topic], {
      onBatch: async (batch, control) => {
        if (failed || control.isStale()) {
          const first = batch.records[0]?.offset;
          options.logger.debug('batch passed over', { partition: batch.partition, from: first, records: batch.records.length, stale: !failed });
          return;
        }
        try {
          await onBatch(batch, async (offset) => {
            await control.commit([{ topic: options.topic, partition: batch.partition, offset }]);
            control.resolveOffset(String(BigInt(offset) - 1n));
          });
        } catch (error) {
          fail(error);
        }
      },
      onAssignment: () => {},
      onCrash: (error, restarting) => {
        if (!restarting) fail(error);
      },
    });
    await finished;
  } finally {
    await consumer.close();
    await producer.close();
  }
}

/** Where a dead letter goes back to; checks that those topics exist, once each. */
class Targets {
  readonly #client: StreamClient;
  readonly #to: string | undefined;
  readonly #partitions = new Map<string, number>();

  constructor(client: StreamClient, to: string | undefined) {
    this.#client = client;
    this.#to = to;
  }

  topicOf(letter: DeadLetter): string {
    const topic = this.#to ?? letter.original.topic;
    if (topic === undefined) {
      throw new StreamrunError(
        'INVALID_OPTIONS',
        `the dead letter at partition ${letter.partition} offset ${letter.record.offset} has no ${deadLetterHeaders.topic} header: give --to`,
      );
    }
    return topic;
  }

  async ensure(topics: readonly string[]): Promise<void> {
    const unknown = [...new Set(topics)].filter((t) => !this.#partitions.has(t));
    if (unknown.length === 0) return;
    for (const [topic, count] of await mustExist(this.#client, unknown)) this.#partitions.set(topic, count);
  }

  /** The original partition when the record goes back where it came from (and it still exists); else by key. */
  route(letter: DeadLetter): { topic: string; partition: number | undefined } {
    const topic = this.topicOf(letter);
    const original = this.#to === undefined ? letter.original.partition : undefined;
    const partitions = this.#partitions.get(topic) ?? 0;
    return { topic, partition: original !== undefined && original < partitions ? original : undefined };
  }
}
