import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isRetriable, resolveErrorPolicy, withRetries } from '../../../lib/errors/policy.ts';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';

class InvalidOrder extends Error {}
const policy = resolveErrorPolicy({ retries: 3, backoff: { initialMs: 10, multiplier: 2, jitter: false }, nonRetryable: [InvalidOrder] }, 'shop');
const failing = (cause: Error, code: 'PROCESSING' | 'DESERIALIZATION' | 'REJECTED' = 'PROCESSING') =>
  new StreamrunError(code, cause.message, { cause });

describe('resolveErrorPolicy()', () => {
  it('fills in the defaults: 3 retries from 100 ms doubling to 5 s with jitter, then <appId>-dlq', () => {
    expect(resolveErrorPolicy({}, 'shop')).toEqual({
      retries: 3,
      initialMs: 100,
      maxMs: 5000,
      multiplier: 2,
      jitter: true,
      onExhausted: 'dlq',
      nonRetryable: [],
      deadLetterTopic: 'shop-dlq',
    });
  });

  it('takes what a node leaves out from the runner policy', () => {
    const node = resolveErrorPolicy({ retries: 0 }, 'shop', policy);
    expect(node).toMatchObject({ retries: 0, initialMs: 10, nonRetryable: [InvalidOrder], deadLetterTopic: 'shop-dlq' });
  });

  it('refuses nonsense with a message naming the field', () => {
    expect(() => resolveErrorPolicy({ retries: -1 }, 'shop')).toThrow('errors.retries: expected a whole number ≥ 0, got -1');
    expect(() => resolveErrorPolicy({ backoff: { multiplier: 0.5 } }, 'shop')).toThrow('errors.backoff.multiplier: expected ≥ 1, got 0.5');
    expect(() => resolveErrorPolicy({ onExhausted: 'later' as 'dlq' }, 'shop')).toThrow("errors.onExhausted: expected 'dlq', 'skip' or 'fail', got later");
  });
});

describe('isRetriable()', () => {
  it('retries processing errors, not unreadable bytes, refused records or the policy\'s non-retryable classes', () => {
    expect(isRetriable(policy, failing(new Error('timeout')))).toBe(true);
    expect(isRetriable(policy, failing(new SyntaxError('bad json'), 'DESERIALIZATION'))).toBe(false);
    expect(isRetriable(policy, failing(new Error('check constraint'), 'REJECTED'))).toBe(false);
    expect(isRetriable(policy, failing(new InvalidOrder('no items')))).toBe(false);
    expect(isRetriable(policy, new Error('not ours'))).toBe(false);
  });
});

describe('withRetries()', () => {
  it('tries 1 + retries times with growing delays, and reports the last error', async () => {
    const at: number[] = [];
    const outcome = await withRetries(policy, () => {
      at.push(performance.now());
      throw failing(new Error(`try ${at.length}`));
    });
    expect(outcome.attempts).toBe(4);
    expect(outcome.error?.message).toBe('try 4');
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(9);
    expect(gaps[1]).toBeGreaterThanOrEqual(19);
    expect(gaps[2]).toBeGreaterThanOrEqual(39);
  });

  it('stops at the first success', async () => {
    let tries = 0;
    const outcome = await withRetries(policy, () => {
      if (++tries < 2) throw failing(new Error('once'));
    });
    expect(outcome).toEqual({ attempts: 2 });
  });

  it('does not retry a non-retryable error', async () => {
    const outcome = await withRetries(policy, () => {
      throw failing(new InvalidOrder('no items'));
    });
    expect(outcome.attempts).toBe(1);
  });

  it('ends a long backoff at once when the signal aborts, runs no further try, and leaves no listener behind', async () => {
    const slow = resolveErrorPolicy({ retries: 3, backoff: { initialMs: 60_000, jitter: false } }, 'shop');
    const controller = new AbortController();
    let tries = 0;
    const started = performance.now();
    const pending = withRetries(slow, () => {
      tries++;
      throw failing(new Error('down'));
    }, controller.signal);
    setTimeout(() => controller.abort(), 20);
    const outcome = await pending;
    expect(performance.now() - started).toBeLessThan(5_000);
    expect([tries, outcome.error !== undefined]).toEqual([1, true]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('keeps no listener on a shared signal after many runs', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 25; i++) await withRetries(policy, () => {}, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('resolveErrorPolicy(): fields and their boundaries', () => {
  // Resolved inside each test: a throw here would fail the file without failing a test.
  const runner = () =>
    resolveErrorPolicy(
      { retries: 5, backoff: { initialMs: 7, maxMs: 70, multiplier: 3, jitter: false }, onExhausted: 'skip', deadLetterTopic: 'runner-dlq' },
      'shop',
    );

  it('a node\'s own values win over the runner\'s, field by field', () => {
    const node = resolveErrorPolicy(
      { retries: 1, backoff: { initialMs: 1, maxMs: 2, multiplier: 1, jitter: true }, onExhausted: 'fail', nonRetryable: [RangeError], deadLetterTopic: 'node-dlq' },
      'shop',
      runner(),
    );
    expect(node).toEqual({
      retries: 1,
      initialMs: 1,
      maxMs: 2,
      multiplier: 1,
      jitter: true,
      onExhausted: 'fail',
      nonRetryable: [RangeError],
      deadLetterTopic: 'node-dlq',
    });
  });

  it('everything a node leaves out comes from the runner\'s policy, not from the defaults', () => {
    expect(resolveErrorPolicy({}, 'other', runner())).toEqual({
      retries: 5,
      initialMs: 7,
      maxMs: 70,
      multiplier: 3,
      jitter: false,
      onExhausted: 'skip',
      nonRetryable: [],
      deadLetterTopic: 'runner-dlq',
    });
    expect(resolveErrorPolicy({ backoff: {} }, 'other', runner()).jitter).toBe(false);
  });

  it('accepts each onExhausted value', () => {
    for (const onExhausted of ['dlq', 'skip', 'fail'] as const) {
      expect(resolveErrorPolicy({ onExhausted }, 'shop').onExhausted).toBe(onExhausted);
    }
  });

  it('accepts 0 for retries and delays, and a multiplier of exactly 1', () => {
    expect(resolveErrorPolicy({ retries: 0, backoff: { initialMs: 0, maxMs: 0, multiplier: 1 } }, 'shop')).toMatchObject({
      retries: 0,
      initialMs: 0,
      maxMs: 0,
      multiplier: 1,
    });
  });

  it.each([
    [{ retries: 1.5 }, 'errors.retries: expected a whole number ≥ 0, got 1.5'],
    [{ retries: Number.NaN }, 'errors.retries: expected a whole number ≥ 0, got NaN'],
    [{ backoff: { initialMs: -1 } }, 'errors.backoff.initialMs: expected a whole number ≥ 0, got -1'],
    [{ backoff: { initialMs: 0.5 } }, 'errors.backoff.initialMs: expected a whole number ≥ 0, got 0.5'],
    [{ backoff: { maxMs: -5 } }, 'errors.backoff.maxMs: expected a whole number ≥ 0, got -5'],
    [{ backoff: { maxMs: 1.5 } }, 'errors.backoff.maxMs: expected a whole number ≥ 0, got 1.5'],
    [{ backoff: { multiplier: 0.999 } }, 'errors.backoff.multiplier: expected ≥ 1, got 0.999'],
    [{ backoff: { multiplier: Number.NaN } }, 'errors.backoff.multiplier: expected ≥ 1, got NaN'],
  ] as const)('refuses %j with INVALID_OPTIONS', (given, message) => {
    expect(() => resolveErrorPolicy(given as never, 'shop')).toThrow(
      expect.objectContaining({ name: 'StreamrunError', code: 'INVALID_OPTIONS', message }),
    );
  });
});

describe('isRetriable(): an open circuit', () => {
  it('is not retried: the caller waits for the breaker instead', async () => {
    const { BrokenCircuitError } = await import('cockatiel');
    expect(isRetriable(policy, new StreamrunError('PROCESSING', 'open', { cause: new BrokenCircuitError() }))).toBe(false);
  });
});

describe('withRetries(): what it reports', () => {
  it('wraps a thrown value that is no StreamrunError as PROCESSING, with the value as its cause', async () => {
    const thrown = new Error('plain');
    const outcome = await withRetries(policy, () => {
      throw thrown;
    });
    // Not a StreamrunError, so not retried.
    expect(outcome.attempts).toBe(1);
    expect(outcome.error).toBeInstanceOf(StreamrunError);
    expect(outcome.error).toMatchObject({ code: 'PROCESSING', message: 'Error: plain' });
    expect(outcome.error?.cause).toBe(thrown);
  });

  it('returns the StreamrunError itself when every try threw one', async () => {
    const error = failing(new InvalidOrder('no items'));
    const outcome = await withRetries(policy, () => {
      throw error;
    });
    expect(outcome).toEqual({ attempts: 1, error });
    expect(outcome.error).toBe(error);
  });

  it('with a signal that is not aborted, runs to the end as without one', async () => {
    const controller = new AbortController();
    expect(await withRetries(policy, () => {}, controller.signal)).toEqual({ attempts: 1 });
    let tries = 0;
    const outcome = await withRetries(policy, () => {
      if (++tries < 3) throw failing(new Error('flaky'));
    }, controller.signal);
    expect(outcome).toEqual({ attempts: 3 });
  });

  it('with a signal aborted before the start, runs no try', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopping'));
    let tries = 0;
    const outcome = await withRetries(policy, () => {
      tries++;
    }, controller.signal);
    expect(tries).toBe(0);
    expect(outcome.attempts).toBe(0);
    expect(outcome.error).toBeInstanceOf(StreamrunError);
  });
});
