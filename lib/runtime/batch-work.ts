import type { StreamrunError } from '../errors/streamrun-error.ts';
import type { InputBatch, TopicPartitionOffset } from '../kafka/client.ts';
import type { CommitStep } from './commit.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRetriable, retryDelay } from '../errors/policy.ts';
import { giveUp, settleFailure, type Failed, type FailureHandling, type Settled } from './failures.ts';
import type { IsolatedRecords } from './isolated-records.ts';
import type { Counters } from './stats.ts';
import type { Task } from './task.ts';

/**
 * What a batch's work needs from where it runs: first inside the consumer's batch handler, then,
 * once it parked, in the background with its partition paused.
 */
export interface WorkLane {
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /** Marks records up to `offset` as done: the partition reads on after it. */
  resolve(offset: string): void;
  /** False once the runner stops or the partition is taken away: stop without committing. */
  live(): boolean;
  heartbeat(): Promise<void>;
  /** Aborted when `live()` turns false, so waits end at once. */
  readonly signal: AbortSignal;
}

export interface BatchWork {
  readonly commitStep: CommitStep;
  readonly maxBufferedOutputs: number;
  readonly stats: Counters;
  /** Failure handling for this batch: its `park` and `signal` belong to the lane. */
  readonly handling: FailureHandling;
  /** A record failed for good under `onExhausted: 'fail'`: the runner stops. */
  onFatal(error: StreamrunError): void;
  /** Exactly-once: records that threw are tried alone, on fresh state (see isolated-records.ts). */
  readonly isolated?: IsolatedRecords | undefined;
}

/**
 * Processes a batch chunk by chunk: records run synchronously until a bound of outputs, then
 * enrich results are taken in order, failures settled, and the chunk committed in one step.
 */
export async function processBatch(task: Task, batch: InputBatch, lane: WorkLane, work: BatchWork): Promise<void> {
  const started = performance.now();
  try {
    await processChunks(task, batch, lane, work);
  } finally {
    work.stats.batchDuration.observe(performance.now() - started);
  }
}

async function processChunks(task: Task, batch: InputBatch, lane: WorkLane, work: BatchWork): Promise<void> {
  const records = batch.records;
  const { commitStep, handling, stats } = work;
  /** The first record whose outputs the broker has not acknowledged yet. */
  let unacknowledged = 0;
  /** The first work that failed for good under `onExhausted: 'fail'`: what the runner stops with. */
  let fatal: StreamrunError | undefined;
  const settle = async (failed: Failed) => {
    const settled = await settleFailure(task, failed, handling);
    if (settled === 'fatal') fatal ??= failed.error;
    return settled;
  };
  const commit = async (through: number) => {
    const inputs = { topic: batch.topic, partition: batch.partition, records: Math.max(0, through + 1 - unacknowledged) };
    try {
      await commitStep.commit(task, lane, inputs);
    } catch (error) {
      commitStep.discard(task);
      throw error;
    }
    stats.commits++;
    if (through < 0) return;
    const now = Date.now();
    for (; unacknowledged <= through; unacknowledged++) stats.latency.observe(now - Number(records[unacknowledged]!.timestamp));
    lane.resolve(records[through]!.offset);
  };
  const isolated = work.isolated;
  let index = 0;
  while (index < records.length && lane.live()) {
    const from = index;
    const alone = isolated?.at(batch, from);
    if (alone?.index === from) {
      // Everything before it is committed or in the open transaction: nothing of it is pending.
      const policy = handling.policyFor(alone.error.context.node);
      if (alone.attempts > policy.retries || !isRetriable(policy, alone.error)) {
        isolated!.clear(batch.topic, batch.partition);
        const source = { topic: batch.topic, partition: batch.partition, record: records[from]! };
        if (giveUp(task, { error: alone.error, source }, alone.attempts, handling) === 'fatal') {
          work.onFatal(alone.error);
          return;
        }
        task.markDone(batch, from);
        index++;
        await commit(from);
        continue;
      }
      await sleep(retryDelay(policy, alone.attempts - 1), undefined, { signal: lane.signal }).catch(() => {});
      if (!lane.live()) return;
      stats.retries++;
    }
    const end = alone === undefined ? records.length : alone.index === from ? from + 1 : alone.index;
    const fetching = task.prepare(batch, from, end);
    if (fetching !== undefined) {
      try {
        await fetching;
      } catch (error) {
        // The registry is out of reach past the serde's own retries: no record can be read.
        work.onFatal(error as StreamrunError);
        return;
      }
      if (!lane.live()) return;
    }
    index = task.process(batch, from, work.maxBufferedOutputs, end);
    if (isolated !== undefined) {
      const threw = task.takeFailure();
      if (threw !== undefined) {
        // What the record did before it threw cannot be taken back: the task starts afresh and
        // the record comes again alone (see isolated-records.ts).
        isolated.failed(batch.topic, batch.partition, records[threw.index]!.offset, threw.error);
        commitStep.discard(task);
        return;
      }
      if (alone !== undefined && index > alone.index) isolated.clear(batch.topic, batch.partition);
    }
    // Enrich results of earlier records go first, then the record that threw, if one did.
    let settled: Settled = await task.drain(settle);
    const failure = task.takeFailure();
    /** A record that failed for good in the synchronous pass: what came before it is done and committed. */
    let stopAfterCommit = false;
    if (settled === 'done' && failure !== undefined && failure.index > from) {
      // What came before the record is done: it need not wait for the record's retries.
      settled = await task.flushSinks(settle);
      if (settled === 'done') await commit(failure.index - 1);
    }
    if (settled === 'done' && failure !== undefined) {
      const failed = {
        error: failure.error,
        source: { topic: batch.topic, partition: batch.partition, record: records[failure.index]! },
        retry: () => task.retry(batch, failure.index),
      };
      settled = await settle(failed);
      if (settled === 'fatal') {
        stopAfterCommit = true;
        settled = 'done';
      } else if (settled === 'done') {
        task.markDone(batch, failure.index);
        index++;
        settled = await task.drain(settle);
      }
    }
    if (settled === 'done') settled = await task.flushSinks(settle);
    if (settled === 'aborted' || (!lane.live() && !commitStep.commitsWhenStopped)) {
      // Given up for now: the records come again from the last committed offset.
      commitStep.discard(task);
      return;
    }
    if (settled === 'fatal') {
      // A deferred call failed for good: the chunk's positions already cover its record, so
      // nothing of the chunk is committed; the next start reads it again.
      commitStep.discard(task);
      work.onFatal(fatal!);
      return;
    }
    await commit(index - 1);
    if (stopAfterCommit) {
      work.onFatal(failure!.error);
      return;
    }
    if (!lane.live()) return;
    await lane.heartbeat();
  }
}
