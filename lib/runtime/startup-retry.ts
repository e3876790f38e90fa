import { setTimeout as sleep } from 'node:timers/promises';
import { StreamrunError } from '../errors/streamrun-error.ts';
import type { Logger } from './logger.ts';

/** Time as the retry loop sees it; tests pass their own. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface StartupRetryOptions {
  /** How long start-up may keep retrying, from the moment the policy is made. */
  readonly timeoutMs: number;
  /**
   * Names the broker's answer when `error` is a transient one (e.g. `LEADER_NOT_AVAILABLE`),
   * which asking again may clear; undefined for anything else, which fails at once.
   */
  readonly transient: (error: unknown) => string | undefined;
  /** Named in the error of a step that timed out, so the user sees which cluster did not answer. */
  readonly brokers: readonly string[];
  readonly logger: Logger;
  readonly clock?: Clock;
}

/** Runs one named start-up step, trying it again while it fails transiently and time is left. */
export type StartupStep = <T>(step: string, attempt: () => Promise<T>) => Promise<T>;

const firstDelayMs = 100;
const maxDelayMs = 2000;

/**
 * A fresh cluster answers a burst of new topics and groups with errors that clear by
 * themselves (metadata not yet propagated, a coordinator still loading). Every step of a
 * start-up shares one deadline: the backoff doubles from 100 ms to at most 2 s, each retry is
 * logged, and a step still failing at the deadline fails the start with STARTUP_TIMEOUT.
 *
 * @example
 * const step = startupRetry({ timeoutMs: 60_000, transient: client.transient, brokers, logger });
 * await step('create topics', () => client.createTopics(specs));
 */
export function startupRetry(options: StartupRetryOptions): StartupStep {
  const clock = options.clock ?? { now: Date.now, sleep: (ms) => sleep(ms) };
  const deadline = clock.now() + options.timeoutMs;
  return async (step, attempt) => {
    for (let retry = 1; ; retry++) {
      try {
        return await attempt();
      } catch (error) {
        const answer = options.transient(error);
        if (answer === undefined) throw error;
        const message = error instanceof Error ? error.message : String(error);
        const left = deadline - clock.now();
        if (left <= 0) {
          throw new StreamrunError(
            'STARTUP_TIMEOUT',
            `start-up did not finish within ${options.timeoutMs} ms: ${step} still fails with ${answer} from Kafka at ${options.brokers.join(',')} (${message})`,
            { cause: error, retriable: true },
          );
        }
        const delay = Math.min(firstDelayMs * 2 ** (retry - 1), maxDelayMs, left);
        options.logger.info(`start-up: ${step} failed with ${answer}, retry ${retry} in ${delay} ms`, { error: message });
        await clock.sleep(delay);
      }
    }
  };
}
