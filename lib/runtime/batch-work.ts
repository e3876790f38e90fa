import { StreamrunError } from '../errors/streamrun-error.ts';
import type { InputBatch, TopicPartitionOffset } from '../kafka/client.ts';
import type { CommitStep } from './commit.ts';
import { settleFailure, type FailureHandling, type Settled } from './failures.ts';
import type { RunnerStats } from './stats.ts';
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
  readonly stats: RunnerStats;
  /** Failure handling for this batch: its `park` and `signal` belong to the lane. */
  readonly handling: FailureHandling;
  /** A record failed for good under `onExhausted: 'fail'`: the runner stops. */
  onFatal(error: StreamrunError): void;
}

/**
 * Processes a batch chunk by chunk: records run synchronously until a bound of outputs, then
 * enrich results are taken in order, failures settled, and the chunk committed in one step.
 */
export async function processBatch(task: Task, batch: InputBatch, lane: WorkLane, work: BatchWork): Promise<void> {
  const records = batch.records;
  const { commitStep, handling, stats } = work;
  const settle = (failed: Parameters<typeof settleFailure>[1]) => settleFailure(task, failed, handling);
  const commit = async (through: number) => {
    let produced: number;
    try {
      // Counted after the await: `+= await` would add to the count read before it, and tasks
      // committing at once would lose each other's counts.
      produced = await commitStep.commit(task, lane);
    } catch (error) {
      task.discardPending();
      throw error;
    }
    stats.produced += produced;
    stats.commits++;
    if (through >= 0) lane.resolve(records[through]!.offset);
  };
  let index = 0;
  while (index < records.length && lane.live()) {
    const from = index;
    index = task.process(batch, from, work.maxBufferedOutputs);
    stats.consumed += index - from;
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
      stats.consumed++;
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
    if (settled === 'aborted' || !lane.live()) {
      // Given up for now: the records come again from the last committed offset.
      task.discardPending();
      return;
    }
    if (settled === 'fatal') {
      // A deferred call failed for good: the chunk's positions already cover its record, so
      // nothing of the chunk is committed; the next start reads it again.
      task.discardPending();
      work.onFatal(failure?.error ?? new StreamrunError('PROCESSING', 'a record failed for good'));
      return;
    }
    await commit(index - 1);
    if (stopAfterCommit) {
      work.onFatal(failure!.error);
      return;
    }
    await lane.heartbeat();
  }
}
