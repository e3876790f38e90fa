import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { brokers, byPartition, createTopic, partitionCount, produce, readAll, uniqueName } from './helpers/kafka.ts';

describe('examples/uppercase.ts through the CLI', () => {
  it('turns 10,000 records into exactly 10,000 upper-cased ones, same keys, same per-partition order', async () => {
    await createTopic('input', 4);
    const inputs = Array.from({ length: 10_000 }, (_, i) => ({ key: `key-${i % 101}`, value: `value ${i} of ça` }));
    await produce('input', inputs);

    const run = runCli(['start', 'examples/uppercase.ts', '--brokers', brokers(), '--app-id', uniqueName('uppercase')]);
    try {
      const outputs = await readAll('output', 10_000);
      expect(outputs).toHaveLength(10_000);
      expect(await partitionCount('output')).toBe(4);

      const read = byPartition(await readAll('input', 10_000));
      const written = byPartition(outputs);
      expect([...written.keys()].sort()).toEqual([0, 1, 2, 3]);
      for (const [partition, records] of read) {
        const expected = records.map((r) => [r.key, r.value!.toUpperCase()]);
        expect(written.get(partition)!.map((r) => [r.key, r.value])).toEqual(expected);
      }
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
  });
});
