import { ExponentialBackoff, handleWhen, retry, type GeneratorFn } from 'cockatiel';
import { isBrokenCircuit } from './breaker.ts';
import { invalidOptions, StreamrunError } from './streamrun-error.ts';

/**
 * What happens to a record a node throws on: it is tried again `retries` times with
 * exponential backoff, then dead-lettered, skipped, or the runner stops.
 *
 * @example
 * start(app, { errors: { retries: 5, backoff: { initialMs: 200 }, onExhausted: 'dlq' } });
 */
export interface ErrorPolicy {
  /** Tries after the first. Default 3. */
  retries?: number;
  backoff?: {
    /** Delay before the first retry. Default 100 ms. */
    initialMs?: number;
    /** No delay is longer. Default 5,000 ms. */
    maxMs?: number;
    /** Each delay is this many times the one before. Default 2. */
    multiplier?: number;
    /** Draw each delay from [d/2, d] so instances do not retry in step. Default true. */
    jitter?: boolean;
  };
  /** After the last try: `'dlq'` (default) writes it to the dead-letter topic, `'skip'` logs and drops it, `'fail'` stops the runner. */
  onExhausted?: 'dlq' | 'skip' | 'fail';
  /** Errors of these classes are not tried again (a validation error stays one). */
  nonRetryable?: readonly (abstract new (...args: never[]) => Error)[];
  /** Where dead letters go. Default `<appId>-dlq`. */
  deadLetterTopic?: string;
}

export interface ResolvedErrorPolicy {
  readonly retries: number;
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  readonly jitter: boolean;
  readonly onExhausted: 'dlq' | 'skip' | 'fail';
  readonly nonRetryable: readonly (abstract new (...args: never[]) => Error)[];
  readonly deadLetterTopic: string;
}

/** What a policy leaves out comes from `base`: a node's policy from the runner's, the runner's from the defaults. */
export function resolveErrorPolicy(policy: ErrorPolicy, appId: string, base?: ResolvedErrorPolicy): ResolvedErrorPolicy {
  const backoff = policy.backoff ?? {};
  const resolved = {
    retries: whole('errors.retries', policy.retries ?? base?.retries ?? 3, 0),
    initialMs: whole('errors.backoff.initialMs', backoff.initialMs ?? base?.initialMs ?? 100, 0),
    maxMs: whole('errors.backoff.maxMs', backoff.maxMs ?? base?.maxMs ?? 5000, 0),
    multiplier: backoff.multiplier ?? base?.multiplier ?? 2,
    jitter: backoff.jitter ?? base?.jitter ?? true,
    onExhausted: policy.onExhausted ?? base?.onExhausted ?? 'dlq',
    nonRetryable: policy.nonRetryable ?? base?.nonRetryable ?? [],
    deadLetterTopic: policy.deadLetterTopic ?? base?.deadLetterTopic ?? `${appId}-dlq`,
  };
  if (!(resolved.multiplier >= 1)) throw invalidOptions(`errors.backoff.multiplier: expected ≥ 1, got ${resolved.multiplier}`);
  if (!['dlq', 'skip', 'fail'].includes(resolved.onExhausted)) {
    throw invalidOptions(`errors.onExhausted: expected 'dlq', 'skip' or 'fail', got ${String(resolved.onExhausted)}`);
  }
  return resolved;
}

/** How a record's tries ended. */
export interface Outcome {
  readonly attempts: number;
  /** The last error, when every try failed. */
  readonly error?: StreamrunError;
}

/**
 * Whether the policy tries `error` again. Deserialization errors, records a dependency refused
 * and the policy's non-retryable classes are not: the same bytes fail the same way. Nor is an open circuit:
 * the caller waits for it to half-open instead.
 */
export function isRetriable(policy: ResolvedErrorPolicy, error: Error): boolean {
  if (!(error instanceof StreamrunError) || error.code === 'DESERIALIZATION' || error.code === 'REJECTED') return false;
  if (isBrokenCircuit(error)) return false;
  const cause = error.cause;
  return !policy.nonRetryable.some((type) => cause instanceof type);
}

/** Runs `attempt` until it returns, the policy gives up, or `signal` aborts. */
export async function withRetries(
  policy: ResolvedErrorPolicy,
  attempt: () => void | Promise<void>,
  signal?: AbortSignal,
): Promise<Outcome> {
  let attempts = 0;
  const backoff = new ExponentialBackoff({ generator: delays(policy) });
  try {
    const retrying = retry(handleWhen((error) => isRetriable(policy, error)), { maxAttempts: policy.retries, backoff });
    const run = retrying.execute(() => {
      // cockatiel's backoff sleeps through an abort; what it wakes up to must not run.
      signal?.throwIfAborted();
      attempts++;
      return attempt();
    }, signal);
    run.catch(() => {});
    if (signal === undefined) await run;
    else await untilAborted(signal, run);
    return { attempts };
  } catch (error) {
    const failure = error instanceof StreamrunError ? error : new StreamrunError('PROCESSING', String(error), { cause: error });
    return { attempts, error: failure };
  }
}

/** `work`, unless `signal` aborts first; the listener goes once either happens. */
async function untilAborted<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => (onAbort = () => reject(signal.reason)));
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * cockatiel's own generators always double; this one honours the multiplier. With jitter a
 * delay is drawn from [d/2, d]: the next one starts where this one's range ends, so delays
 * still grow.
 */
function delays(policy: ResolvedErrorPolicy): GeneratorFn<number> {
  return (attempt = 0) => [retryDelay(policy, attempt), attempt + 1];
}

/** How long to wait before retry number `retry` (from 0). */
export function retryDelay(policy: ResolvedErrorPolicy, retry: number): number {
  const delay = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** retry);
  return policy.jitter ? Math.floor(delay / 2 + (Math.random() * delay) / 2) : delay;
}

function whole(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw invalidOptions(`${name}: expected a whole number ≥ ${min}, got ${value}`);
  return value;
}
