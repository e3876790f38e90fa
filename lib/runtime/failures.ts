import { deadLetterRecord } from '../errors/dead-letter.ts';
import { isRetriable, withRetries, type ResolvedErrorPolicy } from '../errors/policy.ts';
import type { StreamrunError } from '../errors/streamrun-error.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { isBrokenCircuit, type Breaker } from '../errors/breaker.ts';
import type { InputRecord } from '../kafka/client.ts';
import type { Logger } from './logger.ts';
import { addTo, type Counters } from './stats.ts';
import type { Task } from './task.ts';

export interface FailureHandling {
  /** The policy of the node that failed (the runner's when the node has none). */
  policyFor(node: string | undefined): ResolvedErrorPolicy;
  readonly appId: string;
  /** Partitions of a dead-letter topic: a dead letter goes to its record's partition, wrapped. */
  deadLetterPartitions(topic: string): number;
  readonly stats: Counters;
  readonly logger: Logger;
  /** Called before settling starts to wait (a backoff, an open circuit): the partition's other work should not wait with it. */
  park(): void;
  /** Aborts waiting work when the task is revoked or the runner stops: its record is read again later. */
  readonly signal: AbortSignal;
  /** The wall clock, for when a record was dead-lettered (the test driver's own). */
  now(): number;
}

/** How settling ended: the record is done with (processed, dead-lettered or skipped), fatal, or given up for now. */
export type Settled = 'done' | 'fatal' | 'aborted';

/** Work that threw: a record's pass through the graph, or an enrich call and what follows it. */
export interface Failed {
  readonly error: StreamrunError;
  /** The consumed record it came from, for the dead letter. */
  readonly source: { readonly topic: string; readonly partition: number; readonly record: InputRecord };
  /** Every consumed record behind the work when it covers several (a sink's batch): each is dead-lettered. */
  readonly sources?: readonly Failed['source'][];
  /** Does the failed work again; throws what it throws. */
  readonly retry: () => void | Promise<void>;
  /** The circuit breaker of the dependency the work calls, if any. */
  readonly breaker?: Breaker | undefined;
}

/**
 * Settles failed work: tries it again as the policy says and, if it keeps failing,
 * dead-letters or skips its record (the partition moves on) or reports 'fatal' for
 * `onExhausted: 'fail'`. While the dependency's circuit is open the work waits and tries again,
 * however long that takes: a dependency that is down makes no dead letters. A dead letter joins
 * the task's outputs, so it is acknowledged before the record's offset is committed.
 */
export async function settleFailure(task: Task, failed: Failed, handling: FailureHandling): Promise<Settled> {
  const { stats, logger, signal } = handling;
  const policy = handling.policyFor(failed.error.context.node);
  if ((policy.retries > 0 && isRetriable(policy, failed.error)) || isBrokenCircuit(failed.error)) handling.park();
  let first = true;
  const attempt = () => {
    // The first try already happened.
    if (first) {
      first = false;
      throw failed.error;
    }
    return failed.retry();
  };
  let outcome = await withRetries(policy, attempt, signal);
  let attempts = outcome.attempts;
  while (!signal.aborted && outcome.error !== undefined && failed.breaker !== undefined && isBrokenCircuit(outcome.error)) {
    logger.warn(`circuit open at ${failed.error.context.node}: waiting ${failed.breaker.halfOpenAfterMs} ms before trying again`);
    await sleep(failed.breaker.halfOpenAfterMs, undefined, { signal }).catch(() => {});
    if (signal.aborted) break;
    outcome = await withRetries(policy, attempt, signal);
    attempts += outcome.attempts;
  }
  stats.retries += Math.max(0, attempts - 1);
  if (signal.aborted) return 'aborted';
  if (outcome.error === undefined) return 'done';
  return giveUp(task, { ...failed, error: outcome.error }, attempts, handling);
}

/**
 * What the policy does with work that failed for good: its records are dead-lettered (beside
 * the task's outputs, so acknowledged before their offsets are committed) or skipped, or the
 * runner stops ('fatal').
 */
export function giveUp(task: Task, failed: Pick<Failed, 'error' | 'source' | 'sources'>, attempts: number, handling: FailureHandling): Settled {
  const { stats, logger } = handling;
  const error = failed.error;
  const policy = handling.policyFor(error.context.node);
  addTo(error.code === 'DESERIALIZATION' ? stats.deserializationErrors : stats.processingErrors, error.context.node ?? 'source');
  const fields = { code: error.code, attempts, ...error.context };
  switch (policy.onExhausted) {
    case 'fail':
      logger.error(`a record failed for good, stopping: ${error.message}`, fields);
      return 'fatal';
    case 'skip':
      logger.warn(`skipped a record: ${error.message}`, fields);
      break;
    case 'dlq': {
      for (const source of failed.sources ?? [failed.source]) {
        const partition = source.partition % handling.deadLetterPartitions(policy.deadLetterTopic);
        task.outputs.lane(policy.deadLetterTopic).push(deadLetterRecord(source, error, attempts, handling.appId, partition, handling.now()));
        task.outputs.size++;
        addTo(stats.deadLetters, policy.deadLetterTopic);
      }
      logger.warn(`dead-lettered a record to ${policy.deadLetterTopic}: ${error.message}`, fields);
      break;
    }
  }
  return 'done';
}
