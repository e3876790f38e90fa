import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveErrorPolicy, withRetries, type ErrorPolicy } from '../../../lib/errors/policy.ts';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';

/**
 * The delays the retry loop really sleeps: cockatiel waits each one out with a `setTimeout`,
 * so the durations handed to it are what the policy uses, not a re-computation of them.
 */
async function delaysOf(backoff: NonNullable<ErrorPolicy['backoff']>, retries: number): Promise<number[]> {
  const policy = resolveErrorPolicy({ retries, backoff }, 'shop');
  const durations: number[] = [];
  const real = globalThis.setTimeout;
  const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
    durations.push(ms ?? 0);
    // Sleep no time at all: only the duration asked for matters here.
    return real(fn, 0);
  }) as typeof setTimeout);
  let tries = 0;
  try {
    const outcome = await withRetries(policy, () => {
      tries++;
      throw new StreamrunError('PROCESSING', `try ${tries}`, { cause: new Error(`try ${tries}`) });
    });
    expect(outcome.attempts).toBe(retries + 1);
  } finally {
    spy.mockRestore();
  }
  return durations;
}

describe('backoff delays the retry loop waits', () => {
  afterEach(() => vi.restoreAllMocks());

  it('without jitter: exactly initialMs × multiplier^n, capped at maxMs', async () => {
    expect(await delaysOf({ initialMs: 100, multiplier: 3, maxMs: 2000, jitter: false }, 6)).toEqual([100, 300, 900, 2000, 2000, 2000]);
    expect(await delaysOf({ initialMs: 40, multiplier: 1, maxMs: 5000, jitter: false }, 3)).toEqual([40, 40, 40]);
    // The defaults: 100 ms doubling, at most 5 s.
    expect(await delaysOf({ jitter: false }, 8)).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it('with jitter: each delay drawn from [d/2, d] of the capped delay d', async () => {
    const caps = [100, 200, 400, 800, 1000, 1000, 1000];
    for (let run = 0; run < 50; run++) {
      const delays = await delaysOf({ initialMs: 100, multiplier: 2, maxMs: 1000, jitter: true }, caps.length);
      expect(delays).toHaveLength(caps.length);
      delays.forEach((delay, i) => {
        expect(delay).toBeGreaterThanOrEqual(caps[i]! / 2);
        expect(delay).toBeLessThanOrEqual(caps[i]!);
      });
    }
  });

  it('with jitter: the draw spans the whole range, from d/2 (random 0) to just under d (random → 1)', async () => {
    const backoff = { initialMs: 100, multiplier: 2, maxMs: 300, jitter: true };
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(await delaysOf(backoff, 4)).toEqual([50, 100, 150, 150]);
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    expect(await delaysOf(backoff, 4)).toEqual([75, 150, 225, 225]);
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    expect(await delaysOf(backoff, 4)).toEqual([99, 199, 299, 299]);
  });

  it('jitter is on by default', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(await delaysOf({ initialMs: 100 }, 3)).toEqual([50, 100, 200]);
  });
});
