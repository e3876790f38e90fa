import { deadLetterRecord } from '../errors/dead-letter.ts';
import { withRetries, type ResolvedErrorPolicy } from '../errors/policy.ts';
import type { StreamrunError } from '../errors/streamrun-error.ts';
import type { InputBatch } from './client.ts';
import type { Logger } from './logger.ts';
import type { RunnerStats } from './stats.ts';
import type { Task } from './task.ts';

export interface FailureHandling {
  /** The policy of the node that failed (the runner's when the node has none). */
  policyFor(node: string | undefined): ResolvedErrorPolicy;
  readonly appId: string;
  /** Partitions of a dead-letter topic: a dead letter goes to its record's partition, wrapped. */
  deadLetterPartitions(topic: string): number;
  readonly stats: RunnerStats;
  readonly logger: Logger;
}

/**
 * Settles the record a task stopped at: tries it again as the policy says and, if it keeps
 * failing, dead-letters or skips it (both count it as done, so the partition moves on) or
 * reports 'fatal' for `onExhausted: 'fail'`. The dead letter joins the task's outputs, so it is
 * acknowledged before the record's offset is committed, like any output.
 */
export async function settleFailure(
  task: Task,
  batch: InputBatch,
  failure: { readonly index: number; readonly error: StreamrunError },
  handling: FailureHandling,
): Promise<'done' | 'fatal'> {
  const { stats, logger } = handling;
  const policy = handling.policyFor(failure.error.context.node);
  let first = true;
  const outcome = await withRetries(policy, () => {
    // The first try already happened in `process`.
    if (first) {
      first = false;
      throw failure.error;
    }
    task.retry(batch, failure.index);
  });
  stats.retries += outcome.attempts - 1;
  if (outcome.error === undefined) {
    task.markDone(batch, failure.index);
    return 'done';
  }
  const error = outcome.error;
  if (error.code === 'DESERIALIZATION') stats.deserializationErrors++;
  else stats.processingErrors++;
  const fields = { code: error.code, attempts: outcome.attempts, ...error.context };
  switch (policy.onExhausted) {
    case 'fail':
      logger.error(`a record failed for good, stopping: ${error.message}`, fields);
      return 'fatal';
    case 'skip':
      logger.warn(`skipped a record: ${error.message}`, fields);
      break;
    case 'dlq': {
      const record = batch.records[failure.index]!;
      const partition = batch.partition % handling.deadLetterPartitions(policy.deadLetterTopic);
      const letter = deadLetterRecord({ topic: batch.topic, partition: batch.partition, record }, error, outcome.attempts, handling.appId, partition);
      task.outputs.lane(policy.deadLetterTopic).push(letter);
      task.outputs.size++;
      stats.deadLettered++;
      logger.warn(`dead-lettered a record to ${policy.deadLetterTopic}: ${error.message}`, fields);
      break;
    }
  }
  task.markDone(batch, failure.index);
  return 'done';
}
