import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { createTopic, produce, readAllSettled, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';

describe('outputs larger than a broker takes in one batch', () => {
  const startRunner = useRunners();

  it('a commit of 3 MB to one partition is cut into requests the broker accepts, in order', async () => {
    const input = uniqueName('big-in');
    const output = uniqueName('big-out');
    await createTopic(input, 1);
    const padding = 'x'.repeat(1000);
    const appId = uniqueName('big');
    const runner = await startRunner(
      topology(appId)
        .stream(input, { key: serdes.string, value: serdes.string })
        .mapValues((v) => `${v} ${padding}`)
        .to(output),
    );
    // 3,000 records of ~1 KB: one batch, one commit, three times the broker's 1 MiB batch limit.
    await produce(input, Array.from({ length: 3000 }, (_, i) => ({ key: 'one-key', value: `r${i}` })));
    const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
    expect(outputs.map((r) => r.value)).toEqual(Array.from({ length: 3000 }, (_, i) => `r${i} ${padding}`));
    expect(runner.stats()).toMatchObject({ consumed: 3000, produced: 3000 });
  });
});
