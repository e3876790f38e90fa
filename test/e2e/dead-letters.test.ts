import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { createTopic, produce, readAll, recordCount, uniqueName } from './helpers/kafka.ts';
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
    const outputs = await readAll(output, 20);
    expect(outputs.map((r) => JSON.parse(r.value!).doubled)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i * 2),
      ...Array.from({ length: 10 }, (_, i) => (100 + i) * 2),
    ]);

    const letters = await readAll(`${appId}-dlq`, 3);
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
    await waitFor('the counters', () => runner.stats().consumed === 23);
    expect(runner.stats()).toMatchObject({ deserializationErrors: 2, processingErrors: 1, deadLettered: 3, retries: 3, produced: 23 });
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
    await produce(input, Array.from({ length: 10_000 }, (_, i) => ({ key: `k${i}`, value: pills.has(i) ? `poison ${i}` : `ok ${i}` })));

    expect(await readAll(output, 9_963)).toHaveLength(9_963);
    const letters = await readAll(`${appId}-dlq`, 37);
    expect(letters.map((r) => Number(header(r, 'original.offset')))).toEqual([...pills]);
    for (const r of letters) {
      expect([header(r, 'node'), header(r, 'attempts'), header(r, 'error.message')]).toEqual([
        'digest',
        '4',
        `cannot digest ${r.value}`,
      ]);
    }
    await waitFor('the counters', () => runner.stats().consumed === 10_000);
    expect(runner.stats()).toMatchObject({ deadLettered: 37, retries: 111, processingErrors: 37 });
  });

  it('retries a transient failure with growing delays and does not dead-letter it once it succeeds', async () => {
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
          if (attempts.length < 3) throw new Error('not yet');
          return `${v} after ${attempts.length} attempts`;
        })
        .to(output),
      { errors: { retries: 3, backoff: { initialMs: 100, multiplier: 3, jitter: false } } },
    );
    await produce(input, [{ key: 'k', value: 'v' }]);
    expect((await readAll(output, 1)).map((r) => r.value)).toEqual(['v after 3 attempts']);
    expect(attempts).toHaveLength(3);
    const [first, second] = [attempts[1]! - attempts[0]!, attempts[2]! - attempts[1]!];
    expect(first).toBeGreaterThanOrEqual(95);
    expect(second).toBeGreaterThanOrEqual(295);
    expect(runner.stats()).toMatchObject({ retries: 2, deadLettered: 0, processingErrors: 0 });
  });
});

describe('partition progress', () => {
  const startRunner = useRunners();

  it('a record retrying for seconds holds neither its partition\'s later records beyond its budget nor the other partitions', async () => {
    const input = uniqueName('progress-in');
    const output = uniqueName('progress-out');
    const appId = uniqueName('progress');
    await createTopic(input, 2);
    const tries: string[] = [];
    const runner = await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .mapValues((v) => {
          if (v === 'stuck') {
            tries.push(v);
            throw new Error('the dependency of this record is away');
          }
          return v.toUpperCase();
        })
        .to(output),
      // 3 retries, 2 s apart: a 6 s budget the other partition must not wait for.
      { errors: { retries: 3, backoff: { initialMs: 2000, multiplier: 1, jitter: false } } },
    );
    // Partition 0: two records, the stuck one, two more. Partition 1: 500 records.
    await produce(input, [
      ...['a', 'b', 'stuck', 'c', 'd'].map((value) => ({ key: 'p0', value, partition: 0 })),
      ...Array.from({ length: 500 }, (_, i) => ({ key: 'p1', value: `v${i}`, partition: 1 })),
    ]);
    await waitFor('partition 1 and what came before the stuck record', async () => (await recordCount(output)) >= 502);
    // While the stuck record is still on its first retries, partition 1 is done.
    expect(tries.length).toBeLessThan(4);
    expect(await recordCount(`${appId}-dlq`)).toBe(0);
    const early = await readAll(output, 502);
    expect(early.filter((r) => r.key === 'p1')).toHaveLength(500);
    expect(early.filter((r) => r.key === 'p0').map((r) => r.value)).toEqual(['A', 'B']);

    const letters = await readAll(`${appId}-dlq`, 1);
    expect(letters.map((r) => [r.value, header(r, 'attempts'), header(r, 'original.partition'), header(r, 'original.offset')])).toEqual([
      ['stuck', '4', '0', '2'],
    ]);
    const all = await readAll(output, 504);
    expect(all.filter((r) => r.key === 'p0').map((r) => r.value)).toEqual(['A', 'B', 'C', 'D']);
    await waitFor('the counters', () => runner.stats().consumed === 505);
    expect(runner.stats()).toMatchObject({ pauses: 1, retries: 3, deadLettered: 1, produced: 505 });
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
    expect(first.stats()).toMatchObject({ deadLettered: 0, produced: 2 });

    await startRunner(app(true), options);
    expect((await readAll(output, 4)).map((r) => r.value)).toEqual(['A', 'B', 'STUCK', 'C']);
    expect(await recordCount(`${appId}-dlq`)).toBe(0);
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

    // Fixed code, same group: it starts at the record that failed.
    await startRunner(app(false));
    expect((await readAll(output, 4)).map((r) => r.value)).toEqual(['A', 'B', 'BOOM', 'C']);
  });
});

describe('a node with its own error policy', () => {
  const startRunner = useRunners();

  it('uses it for its records and the runner policy for the rest', async () => {
    const input = uniqueName('policy-in');
    const output = uniqueName('policy-out');
    const appId = uniqueName('policy');
    await createTopic(input, 1);
    await startRunner(
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
    expect((await readAll(output, 2)).map((r) => r.value)).toEqual(['ok-1', 'ok-2']);
    const strict = await readAll(`${appId}-strict-dlq`, 1);
    expect(strict.map((r) => [r.value, header(r, 'node'), header(r, 'attempts')])).toEqual([['strict-fail', 'strict', '1']]);
    const lenient = await readAll(`${appId}-dlq`, 1);
    expect(lenient.map((r) => [r.value, header(r, 'node'), header(r, 'attempts')])).toEqual([['lenient-fail', 'lenient', '3']]);
  });
});
