import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { createTopic, produce, readAll, uniqueName } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

describe('records a node cannot take', () => {
  const startRunner = useRunners();

  it('are logged and counted, and the runner keeps going', async () => {
    const input = uniqueName('bad-in');
    const output = uniqueName('bad-out');
    await createTopic(input, 1);
    const logger = collectingLogger();
    const runner = await startRunner(
      topology(uniqueName('bad'))
        .stream(input, { key: serdes.string, value: serdes.json<{ n: number }>() })
        .mapValues((v) => {
          if (v.n === 13) throw new Error('thirteen is unlucky');
          return { doubled: v.n * 2 };
        })
        .to(output, { value: serdes.json<{ doubled: number }>() }),
      { logger },
    );

    const good = (n: number) => ({ key: `k${n}`, value: JSON.stringify({ n }) });
    // offsets: 0-9 good, 10 not JSON, 11 empty, 12 good (n=13 throws), 13-22 good
    await produce(input, [
      ...Array.from({ length: 10 }, (_, i) => good(i)),
      { key: 'bad', value: '{not json' },
      { key: 'empty', value: '' },
      good(13),
      ...Array.from({ length: 10 }, (_, i) => good(100 + i)),
    ]);
    const outputs = await readAll(output, 20);
    expect(outputs.map((r) => JSON.parse(r.value!).doubled)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i * 2),
      ...Array.from({ length: 10 }, (_, i) => (100 + i) * 2),
    ]);
    await waitFor('the counters', () => runner.stats().consumed === 23);
    expect(runner.stats()).toMatchObject({ deserializationErrors: 2, processingErrors: 1, produced: 20 });
    const warnings = logger.lines.filter((l) => l.startsWith('warn skipped a record'));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toContain('"offset":"10"');
    expect(warnings[0]).toContain('not valid JSON');
    expect(warnings[2]).toContain('thirteen is unlucky');

    await produce(input, [good(7)]);
    const after = await readAll(output, 21);
    expect(after.map((r) => r.key)).toHaveLength(21);
  });
});
