import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { createTopic, produce, readAll, readAllSettled, uniqueName } from './helpers/kafka.ts';
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
    const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
    expect(outputs.map((r) => `${r.key} ${r.value}`).sort()).toEqual(inputs.map((r) => `${r.key} ${r.value.toUpperCase()}`).sort());
    // Each runner read exactly the records of its two partitions, and wrote one output for each.
    const read = await readAll(input, 4000);
    const inPartitionsOf = (tasks: string[]) => read.filter((r) => tasks.includes(`0_${r.partition}`)).length;
    expect(a.stats()).toMatchObject({ consumed: inPartitionsOf(a.tasks()), produced: inPartitionsOf(a.tasks()) });
    expect(b.stats()).toMatchObject({ consumed: inPartitionsOf(b.tasks()), produced: inPartitionsOf(b.tasks()) });
    expect(inPartitionsOf(a.tasks()) + inPartitionsOf(b.tasks())).toBe(4000);
  });

  it('one on each Kafka client: they speak one group protocol, split the tasks and produce every record once', async () => {
    const input = uniqueName('mixed-in');
    const output = uniqueName('mixed-out');
    const appId = uniqueName('mixed');
    await createTopic(input, 4);
    const relay = () => topology(appId).stream(input, { key: serdes.string, value: serdes.string }).to(output);
    const a = await startRunner(relay(), { client: 'kafkajs' });
    const b = await startRunner(relay(), { client: 'kafkats' });
    await waitFor('a 2/2 split of the four tasks', () => a.tasks().length === 2 && b.tasks().length === 2);
    expect([...a.tasks(), ...b.tasks()].sort()).toEqual(['0_0', '0_1', '0_2', '0_3']);
    const inputs = Array.from({ length: 2000 }, (_, i) => ({ key: `key-${i}`, value: `v${i}` }));
    await produce(input, inputs);
    const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
    expect(outputs.map((r) => `${r.key} ${r.value}`).sort()).toEqual(inputs.map((r) => `${r.key} ${r.value}`).sort());
    expect(a.stats().consumed + b.stats().consumed).toBe(2000);
    expect(a.stats().consumed).toBeGreaterThan(0);
    expect(b.stats().consumed).toBeGreaterThan(0);
  });
});
