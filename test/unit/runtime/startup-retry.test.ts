import { describe, expect, it } from 'vitest';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';
import { startupRetry, type Clock } from '../../../lib/runtime/startup-retry.ts';
import type { Logger } from '../../../lib/runtime/logger.ts';

/** A clock that moves only when the retry loop sleeps, and remembers each sleep. */
function fakeClock(start = 1_000_000): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

function infoLines(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const ignore = () => {};
  return { lines, error: ignore, warn: ignore, debug: ignore, info: (m, f) => void lines.push(`${m} ${JSON.stringify(f)}`) };
}

/** Errors whose message is a broker answer's name are transient; anything else is not. */
const transient = (error: unknown) => (error instanceof Error && /^[A-Z_]+$/.test(error.message) ? error.message : undefined);

/** An attempt that fails with each of `errors` in turn, then returns `result`. */
function failing<T>(errors: readonly Error[], result: T): (() => Promise<T>) & { calls: number } {
  const attempt = Object.assign(
    async () => {
      const error = errors[attempt.calls++];
      if (error !== undefined) throw error;
      return result;
    },
    { calls: 0 },
  );
  return attempt;
}

describe('startupRetry()', () => {
  it('returns what a step returns, asking once when it succeeds', async () => {
    const clock = fakeClock();
    const step = startupRetry({ brokers: ['kafka-1:9092', 'kafka-2:9092'], timeoutMs: 60_000, transient, logger: infoLines(), clock });
    const attempt = failing([], 'ok');
    expect(await step('create topics', attempt)).toBe('ok');
    expect(attempt.calls).toBe(1);
    expect(clock.slept).toEqual([]);
  });

  it('retries transient failures with a backoff doubling from 100 ms to at most 2 s, one info line each', async () => {
    const clock = fakeClock();
    const logger = infoLines();
    const step = startupRetry({ brokers: ['kafka-1:9092', 'kafka-2:9092'], timeoutMs: 60_000, transient, logger, clock });
    const errors = Array.from({ length: 7 }, (_, i) => new Error(i % 2 === 0 ? 'LEADER_NOT_AVAILABLE' : 'NOT_COORDINATOR'));
    const attempt = failing(errors, 42);
    expect(await step('join group app', attempt)).toBe(42);
    expect(attempt.calls).toBe(8);
    expect(clock.slept).toEqual([100, 200, 400, 800, 1600, 2000, 2000]);
    expect(logger.lines).toEqual([
      'start-up: join group app failed with LEADER_NOT_AVAILABLE, retry 1 in 100 ms {"error":"LEADER_NOT_AVAILABLE"}',
      'start-up: join group app failed with NOT_COORDINATOR, retry 2 in 200 ms {"error":"NOT_COORDINATOR"}',
      'start-up: join group app failed with LEADER_NOT_AVAILABLE, retry 3 in 400 ms {"error":"LEADER_NOT_AVAILABLE"}',
      'start-up: join group app failed with NOT_COORDINATOR, retry 4 in 800 ms {"error":"NOT_COORDINATOR"}',
      'start-up: join group app failed with LEADER_NOT_AVAILABLE, retry 5 in 1600 ms {"error":"LEADER_NOT_AVAILABLE"}',
      'start-up: join group app failed with NOT_COORDINATOR, retry 6 in 2000 ms {"error":"NOT_COORDINATOR"}',
      'start-up: join group app failed with LEADER_NOT_AVAILABLE, retry 7 in 2000 ms {"error":"LEADER_NOT_AVAILABLE"}',
    ]);
  });

  it('passes an error that is not transient through at once, as it is', async () => {
    const clock = fakeClock();
    const logger = infoLines();
    const step = startupRetry({ brokers: ['kafka-1:9092', 'kafka-2:9092'], timeoutMs: 60_000, transient, logger, clock });
    const refused = new Error('Topic authorization failed');
    const attempt = failing([new Error('LEADER_NOT_AVAILABLE'), refused], 'never');
    await expect(step('create topics', attempt)).rejects.toBe(refused);
    expect(attempt.calls).toBe(2);
    expect(clock.slept).toEqual([100]);
    expect(logger.lines).toHaveLength(1);
  });

  it('gives up at the deadline: the last sleep ends on it, one last try, then STARTUP_TIMEOUT naming the step and the answer', async () => {
    const clock = fakeClock();
    const logger = infoLines();
    const step = startupRetry({ brokers: ['kafka-1:9092', 'kafka-2:9092'], timeoutMs: 1000, transient, logger, clock });
    const last = new Error('UNKNOWN_TOPIC_OR_PARTITION');
    const attempt = failing(Array.from({ length: 10 }, () => last), 'never');
    const failure = await step('create topics in, out', attempt).catch((error: unknown) => error);
    // 100 + 200 + 400 = 700 ms; 300 ms are left of the 800 the backoff asks for.
    expect(clock.slept).toEqual([100, 200, 400, 300]);
    expect(attempt.calls).toBe(5);
    expect(logger.lines).toHaveLength(4);
    expect(failure).toBeInstanceOf(StreamrunError);
    expect(failure).toMatchObject({ code: 'STARTUP_TIMEOUT', retriable: true, cause: last });
    expect((failure as Error).message).toBe(
      'start-up did not finish within 1000 ms: create topics in, out still fails with UNKNOWN_TOPIC_OR_PARTITION from Kafka at kafka-1:9092,kafka-2:9092 (UNKNOWN_TOPIC_OR_PARTITION)',
    );
  });

  it('shares one deadline between the steps of a start-up, from the moment it is made', async () => {
    const clock = fakeClock();
    const step = startupRetry({ brokers: ['kafka-1:9092', 'kafka-2:9092'], timeoutMs: 1000, transient, logger: infoLines(), clock });
    // The first step takes 700 ms of retries; the second has 300 ms left.
    await step('describe topics', failing([new Error('LEADER_NOT_AVAILABLE'), new Error('LEADER_NOT_AVAILABLE'), new Error('LEADER_NOT_AVAILABLE')], 1));
    const second = failing(Array.from({ length: 10 }, () => new Error('NOT_COORDINATOR')), 2);
    await expect(step('join group app', second)).rejects.toMatchObject({ code: 'STARTUP_TIMEOUT' });
    expect(clock.slept).toEqual([100, 200, 400, 100, 200]);
    expect(second.calls).toBe(3);
  });

  it('fails the first transient error once the deadline has passed, without sleeping', async () => {
    const clock = fakeClock();
    const step = startupRetry({ brokers: ['kafka-1:9092', 'kafka-2:9092'], timeoutMs: 500, transient, logger: infoLines(), clock });
    await clock.sleep(500);
    const attempt = failing([new Error('REQUEST_TIMED_OUT')], 'never');
    await expect(step('connect the producer', attempt)).rejects.toMatchObject({ code: 'STARTUP_TIMEOUT' });
    expect(attempt.calls).toBe(1);
    expect(clock.slept).toEqual([500]);
  });
});
