import { BrokenCircuitError } from 'cockatiel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { breakerSettings, createBreaker, isBrokenCircuit } from '../../../lib/errors/breaker.ts';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';

describe('breakerSettings()', () => {
  it('defaults to 3 consecutive failures and 1,000 ms until half-open', () => {
    expect(breakerSettings()).toEqual({ failures: 3, halfOpenAfterMs: 1000 });
    expect(breakerSettings({})).toEqual({ failures: 3, halfOpenAfterMs: 1000 });
  });

  it('keeps what is given, and fills in only what is left out', () => {
    expect(breakerSettings({ failures: 5, halfOpenAfterMs: 250 })).toEqual({ failures: 5, halfOpenAfterMs: 250 });
    expect(breakerSettings({ failures: 7 })).toEqual({ failures: 7, halfOpenAfterMs: 1000 });
    expect(breakerSettings({ halfOpenAfterMs: 20 })).toEqual({ failures: 3, halfOpenAfterMs: 20 });
  });
});

/** Runs `fn` through the breaker and says how it ended. */
async function outcome(breaker: ReturnType<typeof createBreaker>, fn: () => Promise<string>): Promise<string> {
  try {
    return `ok ${await breaker.call(fn)}`;
  } catch (error) {
    return isBrokenCircuit(error) ? 'open' : `failed ${(error as Error).message}`;
  }
}

describe('createBreaker()', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());

  const down = () => Promise.reject(new Error('down'));

  it('passes results through and says how long it stays open', async () => {
    const breaker = createBreaker({ halfOpenAfterMs: 250 });
    expect(breaker.halfOpenAfterMs).toBe(250);
    expect(createBreaker().halfOpenAfterMs).toBe(1000);
    expect(await breaker.call(async () => 42)).toBe(42);
  });

  it('opens after the configured consecutive failures, calls onOpen once, and then fails fast', async () => {
    const breaker = createBreaker({ failures: 2, halfOpenAfterMs: 500 });
    const opened = vi.fn();
    breaker.onOpen(opened);
    expect(await outcome(breaker, down)).toBe('failed down');
    expect(opened).not.toHaveBeenCalled();
    expect(await outcome(breaker, down)).toBe('failed down');
    expect(opened).toHaveBeenCalledTimes(1);
    const fn = vi.fn(async () => 'x');
    expect(await outcome(breaker, fn)).toBe('open');
    expect(fn).not.toHaveBeenCalled();
    expect(opened).toHaveBeenCalledTimes(1);    expect(breaker.closed()).toBe(false);
  });

  it('counts as closed until it opens, and again once a call after half-opening went through', async () => {
    const breaker = createBreaker({ failures: 2, halfOpenAfterMs: 500 });
    expect(breaker.closed()).toBe(true);
    await outcome(breaker, down);
    expect(breaker.closed()).toBe(true);
    await outcome(breaker, down);
    expect(breaker.closed()).toBe(false);
    vi.setSystemTime(1_000_500);
    expect(await outcome(breaker, async () => 'up again')).toBe('ok up again');
    expect(breaker.closed()).toBe(true);
  });

  it('counts only consecutive failures: a success in between starts the count again', async () => {
    const breaker = createBreaker({ failures: 3 });
    const opened = vi.fn();
    breaker.onOpen(opened);
    await outcome(breaker, down);
    await outcome(breaker, down);
    expect(await outcome(breaker, async () => 'up')).toBe('ok up');
    await outcome(breaker, down);
    await outcome(breaker, down);
    expect(opened).not.toHaveBeenCalled();
    expect(await outcome(breaker, async () => 'still closed')).toBe('ok still closed');
  });

  it('defaults to 3 failures', async () => {
    const breaker = createBreaker();
    const opened = vi.fn();
    breaker.onOpen(opened);
    await outcome(breaker, down);
    await outcome(breaker, down);
    expect(opened).not.toHaveBeenCalled();
    await outcome(breaker, down);
    expect(opened).toHaveBeenCalledTimes(1);
    expect(await outcome(breaker, async () => 'x')).toBe('open');
  });

  it('lets one call through after halfOpenAfterMs: a success closes it, a failure opens it again', async () => {
    const breaker = createBreaker({ failures: 1, halfOpenAfterMs: 1000 });
    const opened = vi.fn();
    breaker.onOpen(opened);
    expect(await outcome(breaker, down)).toBe('failed down');
    expect(opened).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(999);
    expect(await outcome(breaker, async () => 'early')).toBe('open');
    vi.advanceTimersByTime(1);
    // Half-open: the test call fails, so it opens again (a second onOpen) for another second.
    expect(await outcome(breaker, down)).toBe('failed down');
    expect(opened).toHaveBeenCalledTimes(2);
    expect(await outcome(breaker, async () => 'x')).toBe('open');
    vi.advanceTimersByTime(1000);
    expect(await outcome(breaker, async () => 'back')).toBe('ok back');
    expect(await outcome(breaker, async () => 'closed')).toBe('ok closed');
    expect(opened).toHaveBeenCalledTimes(2);
  });

  it('with countsAsDown, only the errors it accepts count towards opening', async () => {
    const breaker = createBreaker({ failures: 2 }, (error) => error.message === 'down');
    const opened = vi.fn();
    breaker.onOpen(opened);
    const refused = () => Promise.reject(new Error('refused'));
    for (let i = 0; i < 5; i++) expect(await outcome(breaker, refused)).toBe('failed refused');
    expect(opened).not.toHaveBeenCalled();
    expect(await outcome(breaker, async () => 'ok')).toBe('ok ok');
    await outcome(breaker, down);
    await outcome(breaker, down);
    expect(opened).toHaveBeenCalledTimes(1);
    expect(await outcome(breaker, async () => 'x')).toBe('open');
  });

  it('without countsAsDown, every error counts', async () => {
    const breaker = createBreaker({ failures: 2 });
    const opened = vi.fn();
    breaker.onOpen(opened);
    await outcome(breaker, () => Promise.reject(new TypeError('a')));
    await outcome(breaker, () => Promise.reject(new RangeError('b')));
    expect(opened).toHaveBeenCalledTimes(1);
  });
});

describe('isBrokenCircuit()', () => {
  it('finds an open-circuit error itself or anywhere in its cause chain', () => {
    const broken = new BrokenCircuitError();
    expect(isBrokenCircuit(broken)).toBe(true);
    expect(isBrokenCircuit(new StreamrunError('PROCESSING', 'wrapped', { cause: broken }))).toBe(true);
    expect(isBrokenCircuit(new Error('outer', { cause: new Error('middle', { cause: broken }) }))).toBe(true);
  });

  it('is false for other errors and for what is not an error', () => {
    expect(isBrokenCircuit(new Error('down'))).toBe(false);
    expect(isBrokenCircuit(new Error('outer', { cause: new Error('inner') }))).toBe(false);
    expect(isBrokenCircuit(new Error('outer', { cause: 'a string' }))).toBe(false);
    expect(isBrokenCircuit(undefined)).toBe(false);
    expect(isBrokenCircuit('open')).toBe(false);
  });
});
