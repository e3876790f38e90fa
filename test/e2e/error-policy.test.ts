import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { committedOffsets } from './helpers/claims.ts';
import { createTopic, partitionCount, produce, readAll, recordCount, uniqueName, withAdmin, type ReadRecord } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

const header = (r: ReadRecord, name: string) => String(r.headers?.[`streamrun.${name}`] ?? '');
const topicExists = (topic: string) => withAdmin(async (admin) => (await admin.listTopics()).includes(topic));

class ValidationError extends Error {}

describe("onExhausted: 'skip'", () => {
  const startRunner = useRunners();

  it('drops a record after its retries, logs it, writes no dead letter and commits past it', async () => {
    const input = uniqueName('skip-in');
    const output = uniqueName('skip-out');
    const appId = uniqueName('skip');
    await createTopic(input, 1);
    const logger = collectingLogger();
    const tries = new Map<string, number>();
    const runner = await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .mapValues((v) => {
          if (v.startsWith('bad')) {
            tries.set(v, (tries.get(v) ?? 0) + 1);
            throw new Error(`cannot take ${v}`);
          }
          return v.toUpperCase();
        }, { name: 'picky' })
        .to(output),
      { logger, errors: { retries: 2, backoff: { initialMs: 1, jitter: false }, onExhausted: 'skip' } },
    );
    const values = ['a', 'bad-1', 'b', 'c', 'bad-2', 'bad-3', 'd'];
    await produce(input, values.map((value) => ({ key: 'k', value })));

    expect((await readAll(output, 4)).map((r) => r.value)).toEqual(['A', 'B', 'C', 'D']);
    await waitFor('the counters', () => runner.stats().consumed === 7);
    expect(runner.stats()).toMatchObject({ processingErrors: 3, retries: 6, deadLettered: 0, produced: 4 });
    expect([...tries]).toEqual([['bad-1', 3], ['bad-2', 3], ['bad-3', 3]]);
    expect(logger.lines.filter((l) => l.startsWith('warn skipped a record: ')).map((l) => l.split(' {')[0])).toEqual([
      'warn skipped a record: picky: cannot take bad-1',
      'warn skipped a record: picky: cannot take bad-2',
      'warn skipped a record: picky: cannot take bad-3',
    ]);
    // No policy dead-letters, so no dead-letter topic is made.
    expect(await topicExists(`${appId}-dlq`)).toBe(false);
    await waitFor('the offsets past the last record', async () => (await committedOffsets(appId, input))[0] === 7);
  });
});

describe('nonRetryable error classes', () => {
  const startRunner = useRunners();

  it('are dead-lettered after one attempt while other errors get their retries', async () => {
    const input = uniqueName('nonretry-in');
    const output = uniqueName('nonretry-out');
    const appId = uniqueName('nonretry');
    await createTopic(input, 1);
    const tries = new Map<string, number>();
    const runner = await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .mapValues((v) => {
          tries.set(v, (tries.get(v) ?? 0) + 1);
          if (v.startsWith('invalid')) throw new ValidationError(`${v} is not an order`);
          if (v.startsWith('flaky')) throw new TypeError(`${v} failed`);
          return v.toUpperCase();
        }, { name: 'validate' })
        .to(output),
      { errors: { retries: 3, backoff: { initialMs: 1, jitter: false }, nonRetryable: [ValidationError] } },
    );
    // offsets 0..5
    const values = ['ok-1', 'invalid-1', 'flaky-1', 'ok-2', 'invalid-2', 'ok-3'];
    await produce(input, values.map((value) => ({ key: 'k', value })));

    expect((await readAll(output, 3)).map((r) => r.value)).toEqual(['OK-1', 'OK-2', 'OK-3']);
    const letters = await readAll(`${appId}-dlq`, 3);
    expect(letters.map((r) => [r.value, header(r, 'original.offset'), header(r, 'attempts'), header(r, 'error.class'), header(r, 'error.message')])).toEqual([
      ['invalid-1', '1', '1', 'ValidationError', 'invalid-1 is not an order'],
      ['flaky-1', '2', '4', 'TypeError', 'flaky-1 failed'],
      ['invalid-2', '4', '1', 'ValidationError', 'invalid-2 is not an order'],
    ]);
    expect(Object.fromEntries(tries)).toEqual({ 'ok-1': 1, 'invalid-1': 1, 'flaky-1': 4, 'ok-2': 1, 'invalid-2': 1, 'ok-3': 1 });
    await waitFor('the counters', () => runner.stats().consumed === 6);
    expect(runner.stats()).toMatchObject({ processingErrors: 3, retries: 3, deadLettered: 3, produced: 6 });
  });

  it("with onExhausted: 'skip' a non-retryable record is dropped after its one try", async () => {
    const input = uniqueName('nonretry-skip-in');
    const output = uniqueName('nonretry-skip-out');
    const appId = uniqueName('nonretry-skip');
    await createTopic(input, 1);
    let invalidTries = 0;
    const runner = await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .mapValues((v) => {
          if (v === 'invalid') {
            invalidTries++;
            throw new ValidationError('invalid');
          }
          return v;
        })
        .to(output),
      { errors: { retries: 5, backoff: { initialMs: 1 }, nonRetryable: [ValidationError], onExhausted: 'skip' } },
    );
    await produce(input, ['a', 'invalid', 'b'].map((value) => ({ key: 'k', value })));
    expect((await readAll(output, 2)).map((r) => r.value)).toEqual(['a', 'b']);
    await waitFor('the counters', () => runner.stats().consumed === 3);
    expect(invalidTries).toBe(1);
    expect(runner.stats()).toMatchObject({ processingErrors: 1, retries: 0, deadLettered: 0 });
    expect(await topicExists(`${appId}-dlq`)).toBe(false);
  });
});

describe('the dead-letter topic', () => {
  const startRunner = useRunners();

  it('is created with as many partitions as the widest source topic, and a dead letter goes to its record\'s partition', async () => {
    const narrow = uniqueName('narrow');
    const wide = uniqueName('wide');
    const appId = uniqueName('dlq-width');
    await createTopic(narrow, 3);
    await createTopic(wide, 5);
    const app = topology(appId);
    for (const topic of [narrow, wide]) {
      app
        .stream(topic, { key: serdes.string, value: serdes.string })
        .filter((v) => {
          if (v.startsWith('bad')) throw new Error(v);
          return true;
        })
        .to(`${topic}-out`);
    }
    const runner = await startRunner(app, { errors: { retries: 0 } });
    expect(await partitionCount(`${appId}-dlq`)).toBe(5);

    const bad = (topic: string, partitions: number) =>
      Array.from({ length: partitions }, (_, p) => ({ key: `k${p}`, value: `bad ${topic} ${p}`, partition: p }));
    await produce(narrow, bad(narrow, 3));
    await produce(wide, bad(wide, 5));
    const letters = await readAll(`${appId}-dlq`, 8);
    expect(letters).toHaveLength(8);
    const where = letters.map((r) => [r.partition, header(r, 'original.topic'), Number(header(r, 'original.partition')), r.value]);
    expect(where.sort()).toEqual(
      [
        ...[0, 1, 2].map((p) => [p, narrow, p, `bad ${narrow} ${p}`]),
        ...[0, 1, 2, 3, 4].map((p) => [p, wide, p, `bad ${wide} ${p}`]),
      ].sort(),
    );
    await waitFor('the counters', () => runner.stats().consumed === 8);
    expect(runner.stats().deadLettered).toBe(8);
  });

  it('cuts the error stack at 4 KiB of UTF-8, whole characters only, and keeps the whole message', async () => {
    const input = uniqueName('stack-in');
    const appId = uniqueName('stack');
    await createTopic(input, 1);
    // 'Error: ' (7 bytes) + 'é' × 3,000 (6,000 bytes): the cut falls after 2,044 whole 'é' (4,095 bytes).
    const message = 'é'.repeat(3000);
    await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .peek(() => {
          throw new Error(message);
        })
        .to(uniqueName('stack-out')),
      { errors: { retries: 0 } },
    );
    await produce(input, [{ key: 'k', value: 'v' }]);
    const [letter] = await readAll(`${appId}-dlq`, 1);
    const stack = letter!.headers!['streamrun.error.stack'] as Buffer;
    expect(stack.length).toBe(4095);
    expect(stack.toString('utf8')).toBe(`Error: ${'é'.repeat(2044)}`);
    expect(header(letter!, 'error.message')).toBe(message);
    expect(await recordCount(`${appId}-dlq`)).toBe(1);
  });
});
