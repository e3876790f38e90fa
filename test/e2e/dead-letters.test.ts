import { describe, expect, it } from 'vitest';
import { serdes, topology, type ErrorPolicy } from '../../lib/index.ts';
import { createTopic, produce, readAll, readAllSettled, recordCount, uniqueName, withAdmin } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

const header = (r: { headers: Record<string, unknown> | undefined }, name: string) => String(r.headers?.[`streamrun.${name}`] ?? '');

describe('retries and dead letters', () => {
  const startRunner = useRunners();

  it('send unreadable and failing records to <appId>-dlq with their bytes and why, and go on', async () => {
    const input = uniqueName('bad-in');
    const output = uniqueName('bad-out');
    const appId = uniqueName('bad');
    await createTopic(input, 1);
    const logger = collectingLogger();
    const runner = await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.json<{ n: number }>() })
        .mapValues((v) => {
          if (v.n === 13) throw new RangeError('thirteen is unlucky');
          return { doubled: v.n * 2 };
        })
        .to(output, { value: serdes.json<{ doubled: number }>() }),
      { logger, errors: { backoff: { initialMs: 5 } } },
    );

    const good = (n: number) => ({ key: `k${n}`, value: JSON.stringify({ n }) });
    // offsets: 0-9 good, 10 not JSON, 11 empty, 12 throws (n = 13), 13-22 good
    await produce(input, [
      ...Array.from({ length: 10 }, (_, i) => good(i)),
      { key: 'bad', value: '{not json', headers: { trace: 'abc' } },
      { key: 'empty', value: '' },
      good(13),
      ...Array.from({ length: 10 }, (_, i) => good(100 + i)),
    ]);
    const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
    expect(outputs.map((r) => [r.key, JSON.parse(r.value!).doubled])).toEqual([
      ...Array.from({ length: 10 }, (_, i) => [`k${i}`, i * 2]),
      ...Array.from({ length: 10 }, (_, i) => [`k${100 + i}`, (100 + i) * 2]),
    ]);

    const letters = await readAllSettled(`${appId}-dlq`, { group: appId, inputs: [input] });
    expect(letters.map((r) => [r.key, r.value])).toEqual([['bad', '{not json'], ['empty', ''], ['k13', '{"n":13}']]);
    expect(letters.map((r) => [header(r, 'original.offset'), header(r, 'node'), header(r, 'attempts'), header(r, 'error.class')])).toEqual([
      ['10', 'source-0', '1', 'SyntaxError'],
      ['11', 'source-0', '1', 'SyntaxError'],
      ['12', 'mapValues-1', '4', 'RangeError'],
    ]);
    expect(header(letters[2]!, 'error.message')).toBe('thirteen is unlucky');
    expect(header(letters[2]!, 'error.stack')).toMatch(/^RangeError: thirteen is unlucky\n\s+at /);
    expect(header(letters[0]!, 'original.topic')).toBe(input);
    expect(header(letters[0]!, 'app.id')).toBe(appId);
    expect(String(letters[0]!.headers?.['trace'])).toBe('abc');
    expect(runner.stats()).toMatchObject({ consumed: 23, deserializationErrors: 2, processingErrors: 1, deadLettered: 3, retries: 3, produced: 23 });
  });

  it('dead-letter exactly the 37 poison pills among 10,000 records, with attempts = 4, and process the other 9,963', async () => {
    const input = uniqueName('pills-in');
    const output = uniqueName('pills-out');
    const appId = uniqueName('pills');
    await createTopic(input, 1);
    const pills = new Set(Array.from({ length: 37 }, (_, i) => 13 + i * 269));
    const runner = await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .mapValues((v) => {
          if (v.startsWith('poison')) throw new Error(`cannot digest ${v}`);
          return v.toUpperCase();
        }, { name: 'digest' })
        .to(output),
      { errors: { retries: 3, backoff: { initialMs: 1, maxMs: 4, jitter: false } } },
    );
    const inputs = Array.from({ length: 10_000 }, (_, i) => ({ key: `k${i}`, value: pills.has(i) ? `poison ${i}` : `ok ${i}` }));
    await produce(input, inputs);

    const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
    expect(outputs.map((r) => [r.key, r.value])).toEqual(inputs.filter((_, i) => !pills.has(i)).map((r) => [r.key, r.value.toUpperCase()]));
    const letters = await readAllSettled(`${appId}-dlq`, { group: appId, inputs: [input] });
    expect(letters.map((r) => [Number(header(r, 'original.offset')), r.key, r.value])).toEqual([...pills].map((i) => [i, `k${i}`, `poison ${i}`]));
    for (const r of letters) {
      expect([header(r, 'node'), header(r, 'attempts'), header(r, 'error.message')]).toEqual([
        'digest',
        '4',
        `cannot digest ${r.value}`,
      ]);
    }
    expect(runner.stats()).toMatchObject({ consumed: 10_000, produced: 10_000, deadLettered: 37, retries: 111, processingErrors: 37 });
  });

  // How late a timer may fire on a busy machine; far less than the step from one delay to the next.
  const lateness = 150;

  /** One record that fails `failures` times and then succeeds: the delays between its tries, once it is through. */
  async function delaysOfTransientFailure(failures: number, errors: ErrorPolicy) {
    const input = uniqueName('flaky-in');
    const output = uniqueName('flaky-out');
    const appId = uniqueName('flaky');
    await createTopic(input, 1);
    const attempts: number[] = [];
    const runner = await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .mapValues((v) => {
          attempts.push(performance.now());
          if (attempts.length <= failures) throw new Error('not yet');
          return `${v} after ${attempts.length} attempts`;
        })
        .to(output),
      { errors },
    );
    await produce(input, [{ key: 'k', value: 'v' }]);
    expect((await readAllSettled(output, { group: appId, inputs: [input] })).map((r) => r.value)).toEqual([`v after ${failures + 1} attempts`]);
    expect(attempts).toHaveLength(failures + 1);
    expect(runner.stats()).toMatchObject({ consumed: 1, retries: failures, deadLettered: 0, processingErrors: 0 });
    return attempts.slice(1).map((at, i) => at - attempts[i]!);
  }

  it('retries a transient failure with growing delays and does not dead-letter it once it succeeds', async () => {
    const [first, second] = await delaysOfTransientFailure(2, { retries: 3, backoff: { initialMs: 100, multiplier: 3, jitter: false } });
    // Without jitter: 100 ms, then 300 ms (timers fire a little early at most, and late by load).
    expect(first).toBeGreaterThanOrEqual(95);
    expect(first).toBeLessThan(100 + lateness);
    expect(second).toBeGreaterThanOrEqual(295);
    expect(second).toBeLessThan(300 + lateness);
  });

  it('with jitter draws each delay from [d/2, d]: the delays still grow, and are not all d', async () => {
    const delays = await delaysOfTransientFailure(6, { retries: 6, backoff: { initialMs: 100, multiplier: 2, maxMs: 10_000, jitter: true } });
    const nominal = [100, 200, 400, 800, 1600, 3200];
    for (const [i, d] of nominal.entries()) {
      expect(delays[i]).toBeGreaterThanOrEqual(d / 2 - 5);
      expect(delays[i]).toBeLessThan(d + lateness);
    }
    // Each delay is uniform in [d/2, d]: all six in the top tenth of their range happens once in 10^6 runs.
    expect(delays.some((delay, i) => delay < nominal[i]! * 0.95)).toBe(true);
  });
});

describe('partition progress', () => {
  const startRunner = useRunners();

  it('a record retrying for seconds holds neither its partition\'s later records beyond its budget nor the other partitions', async () => {
    const input = uniqueName('progress-in');
    const output = uniqueName('progress-out');
    const appId = uniqueName('progress');
    await createTopic(input, 2);
    // The stuck record's budget lasts until the test ends it: while the gate is shut its error is
    // worth a retry; once open, the next try throws one that is not, and the record is dead-lettered.
    class GaveUp extends Error {}
    let gateOpen = false;
    const tries: string[] = [];
    const runner = await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .mapValues((v) => {
          if (v === 'stuck') {
            tries.push(v);
            if (gateOpen) throw new GaveUp('the dependency of this record is gone for good');
            throw new Error('the dependency of this record is away');
          }
          return v.toUpperCase();
        })
        .to(output),
      { errors: { retries: 1000, nonRetryable: [GaveUp], backoff: { initialMs: 100, multiplier: 1, jitter: false } } },
    );
    // Partition 0: two records, the stuck one, two more. Partition 1: 500 records.
    const p1 = Array.from({ length: 500 }, (_, i) => ({ key: 'p1', value: `v${i}`, partition: 1 }));
    await produce(input, [...['a', 'b', 'stuck', 'c', 'd'].map((value) => ({ key: 'p0', value, partition: 0 })), ...p1]);
    // Partition 1 is done, and partition 0 is committed up to the stuck record, while it retries.
    await waitFor('partition 1 and what came before the stuck record', async () => {
      const [committed] = await withAdmin((admin) => admin.fetchOffsets({ groupId: appId, topics: [input] }));
      const at = new Map(committed!.partitions.map((p) => [p.partition, p.offset]));
      return at.get(0) === '2' && at.get(1) === '500';
    });
    const triesBefore = tries.length;
    await waitFor('the stuck record to be tried again', () => tries.length > triesBefore);
    expect(await recordCount(`${appId}-dlq`)).toBe(0);
    const early = await readAll(output, 502);
    // Outputs go to partitions by key: each key's records in order.
    const valuesOf = (records: typeof early, key: string) => records.filter((r) => r.key === key).map((r) => r.value);
    expect(early).toHaveLength(502);
    expect(valuesOf(early, 'p0')).toEqual(['A', 'B']);
    expect(valuesOf(early, 'p1')).toEqual(p1.map((r) => r.value.toUpperCase()));

    gateOpen = true;
    const all = await readAllSettled(output, { group: appId, inputs: [input] });
    expect(all).toHaveLength(504);
    expect(valuesOf(all, 'p0')).toEqual(['A', 'B', 'C', 'D']);
    expect(valuesOf(all, 'p1')).toEqual(valuesOf(early, 'p1'));
    const letters = await readAllSettled(`${appId}-dlq`, { group: appId, inputs: [input] });
    const attempts = tries.length;
    expect(letters.map((r) => [r.value, header(r, 'attempts'), header(r, 'original.partition'), header(r, 'original.offset'), header(r, 'error.class')])).toEqual([
      ['stuck', String(attempts), '0', '2', 'GaveUp'],
    ]);
    expect(runner.stats()).toMatchObject({ consumed: 505, pauses: 1, retries: attempts - 1, deadLettered: 1, produced: 505 });
  });
  it('a stop while a record waits on its retries ends at once, and the next start takes the record up', async () => {
    const input = uniqueName('parked-in');
    const output = uniqueName('parked-out');
    const appId = uniqueName('parked');
    await createTopic(input, 1);
    const app = (healthy: boolean) =>
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .mapValues((v) => {
          if (v === 'stuck' && !healthy) throw new Error('not now');
          return v.toUpperCase();
        })
        .to(output);
    const options = { errors: { retries: 3, backoff: { initialMs: 60_000, jitter: false } }, shutdownTimeoutMs: 3000 };
    const first = await startRunner(app(false), options);
    await produce(input, ['a', 'b', 'stuck', 'c'].map((value) => ({ key: 'k', value })));
    await waitFor('the stuck record to wait', () => first.stats().pauses === 1);
    // A stop that waited for the 60 s backoff would reject with SHUTDOWN_TIMEOUT.
    await first.stop();
    expect(first.stats()).toMatchObject({ deadLettered: 0, produced: 2, pauses: 1 });

    const second = await startRunner(app(true), options);
    expect((await readAllSettled(output, { group: appId, inputs: [input] })).map((r) => r.value)).toEqual(['A', 'B', 'STUCK', 'C']);
    expect(await recordCount(`${appId}-dlq`)).toBe(0);
    // It starts at the record that waited: what came before it was committed.
    expect(second.stats()).toMatchObject({ consumed: 2, produced: 2, pauses: 0 });
  });
});

describe("onExhausted: 'fail'", () => {
  const startRunner = useRunners();

  it('commits what came before the record, stops, and leaves the record to be read again', async () => {
    const input = uniqueName('fail-in');
    const output = uniqueName('fail-out');
    const appId = uniqueName('fail');
    await createTopic(input, 1);
    const app = (explode: boolean) =>
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .mapValues((v) => {
          if (explode && v === 'boom') throw new Error('boom');
          return v.toUpperCase();
        })
        .to(output);
    const runner = await startRunner(app(true), { errors: { retries: 1, backoff: { initialMs: 1 }, onExhausted: 'fail' } });
    await produce(input, ['a', 'b', 'boom', 'c'].map((value) => ({ key: 'k', value })));
    await expect(runner.finished).rejects.toThrow('boom');
    expect((await readAll(output, 2)).map((r) => r.value)).toEqual(['A', 'B']);
    expect(runner.stats()).toMatchObject({ produced: 2, processingErrors: 1, deadLettered: 0 });

    // Fixed code, same group: it starts at the record that failed.
    const fixed = await startRunner(app(false));
    expect((await readAllSettled(output, { group: appId, inputs: [input] })).map((r) => r.value)).toEqual(['A', 'B', 'BOOM', 'C']);
    expect(fixed.stats()).toMatchObject({ consumed: 2, produced: 2 });
  });
});

describe('a node with its own error policy', () => {
  const startRunner = useRunners();

  it('uses it for its records and the runner policy for the rest', async () => {
    const input = uniqueName('policy-in');
    const output = uniqueName('policy-out');
    const appId = uniqueName('policy');
    await createTopic(input, 1);
    const runner = await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .filter((v) => {
          if (v === 'strict-fail') throw new Error('rejected by the strict node');
          return true;
        }, { name: 'strict', errors: { retries: 0, deadLetterTopic: `${appId}-strict-dlq` } })
        .mapValues((v) => {
          if (v === 'lenient-fail') throw new Error('rejected by the lenient node');
          return v;
        }, { name: 'lenient' })
        .to(output),
      { errors: { retries: 2, backoff: { initialMs: 1 } } },
    );
    await produce(input, ['ok-1', 'strict-fail', 'lenient-fail', 'ok-2'].map((value) => ({ key: 'k', value })));
    const settled = (topic: string) => readAllSettled(topic, { group: appId, inputs: [input] });
    expect((await settled(output)).map((r) => r.value)).toEqual(['ok-1', 'ok-2']);
    const strict = await settled(`${appId}-strict-dlq`);
    expect(strict.map((r) => [r.value, header(r, 'node'), header(r, 'attempts')])).toEqual([['strict-fail', 'strict', '1']]);
    const lenient = await settled(`${appId}-dlq`);
    expect(lenient.map((r) => [r.value, header(r, 'node'), header(r, 'attempts')])).toEqual([['lenient-fail', 'lenient', '3']]);
    expect(runner.stats()).toMatchObject({ consumed: 4, retries: 2, deadLettered: 2, processingErrors: 2 });
  });
});
