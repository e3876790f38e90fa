import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { createTopic, produce, readAll, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

describe('two runners in one group', () => {
  const startRunner = useRunners();

  it('split the partitions between them and together produce every record once', async () => {
    const input = uniqueName('pair-in');
    const output = uniqueName('pair-out');
    const appId = uniqueName('pair');
    await createTopic(input, 4);
    const relay = () =>
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .mapValues((v) => v.toUpperCase())
        .to(output);

    const a = await startRunner(relay());
    const b = await startRunner(relay());
    await waitFor('a 2/2 split of the four tasks', () => a.tasks().length === 2 && b.tasks().length === 2);
    expect([...a.tasks(), ...b.tasks()].sort()).toEqual(['0_0', '0_1', '0_2', '0_3']);

    const inputs = Array.from({ length: 4000 }, (_, i) => ({ key: `key-${i}`, value: `v${i}` }));
    await produce(input, inputs);
    const outputs = await readAll(output, 4000);
    expect(outputs.map((r) => r.value).sort()).toEqual(inputs.map((r) => r.value.toUpperCase()).sort());
    await waitFor('both counters to settle', () => a.stats().consumed + b.stats().consumed === 4000);
    expect(a.stats().consumed).toBeGreaterThan(0);
    expect(b.stats().consumed).toBeGreaterThan(0);
    expect(a.stats().produced + b.stats().produced).toBe(4000);
  });
});
