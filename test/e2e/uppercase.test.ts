import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './helpers/cli.ts';
import { brokers, byPartition, createTopic, partitionCount, produce, readAll, readAllSettled, recordCount, uniqueName } from './helpers/kafka.ts';

describe('examples/uppercase.ts through the CLI', () => {
  it('turns 10,000 records into exactly 10,000 upper-cased ones, same keys, same per-partition order', async () => {
    const [input, output, appId] = [uniqueName('input'), uniqueName('output'), uniqueName('uppercase')];
    await createTopic(input, 4);
    const inputs = Array.from({ length: 10_000 }, (_, i) => ({ key: `key-${i % 101}`, value: `value ${i} of ça` }));
    await produce(input, inputs);

    const run = runCli(['start', 'examples/uppercase.ts', '--brokers', brokers(), '--app-id', appId], { INPUT_TOPIC: input, OUTPUT_TOPIC: output });
    try {
      const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
      expect(outputs).toHaveLength(10_000);
      expect(await partitionCount(output)).toBe(4);

      const read = byPartition(await readAll(input, 10_000));
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

describe('npm run demo:uppercase', () => {
  it('feeds the uppercase example and prints every line upper-cased', async () => {
    const [input, output, appId] = [uniqueName('demo-input'), uniqueName('demo-output'), uniqueName('demo-uppercase')];
    const { stdout } = await promisify(execFile)('bash', ['examples/uppercase-demo.sh'], {
      cwd: repoRoot,
      env: { ...process.env, KAFKA_BROKERS: brokers(), INPUT_TOPIC: input, OUTPUT_TOPIC: output, APP_ID: appId },
    });
    const outputs = stdout.split('\n').filter((l) => l.startsWith('  output '));
    // The lines have different keys, so they may come back from different partitions in any order.
    expect(outputs.map((l) => l.replace(/^ {2}output \S+\s+/, '')).sort()).toEqual([
      'STREAMS ARE JUST TABLES IN MOTION',
      'EVERY PARTITION KEEPS ITS ORDER',
      'OUTPUTS ARE ACKNOWLEDGED BEFORE OFFSETS ARE COMMITTED',
      'STOP ME WITH SIGTERM AND I DRAIN FIRST',
      'HELLO FROM STREAMRUN',
    ].sort());
    expect(stdout).toContain('demo: 5 lines in, 5 upper-cased lines out.');
    // Its own topics and group: five lines in, five out, all committed.
    expect([await recordCount(input), await recordCount(output)]).toEqual([5, 5]);
    expect((await readAllSettled(output, { group: appId, inputs: [input] })).map((r) => r.value).sort()).toEqual(
      outputs.map((l) => l.replace(/^ {2}output \S+\s+/, '')).sort(),
    );
  });
});
