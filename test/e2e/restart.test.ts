import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { brokers, createTopic, groupProgress, produce, readAllSettled, recordCount, uniqueName } from './helpers/kafka.ts';
import { waitFor } from './helpers/wait.ts';

describe('stopping with SIGTERM and starting again', () => {
  it('loses nothing and duplicates nothing across a clean stop in the middle of a stream', async () => {
    const input = uniqueName('restart-in');
    const output = uniqueName('restart-out');
    const appId = uniqueName('restart');
    const env = { INPUT_TOPIC: input, OUTPUT_TOPIC: output, APP_ID: appId, RELAY_BUSY_MICROS: '300' };
    const args = ['start', 'test/e2e/fixtures/relay.ts', '--brokers', brokers()];
    await createTopic(input, 3);
    const batches = Array.from({ length: 20 }, (_, b) =>
      Array.from({ length: 500 }, (_, i) => ({ key: `k${(b * 500 + i) % 37}`, value: `record ${b * 500 + i}` })),
    );

    const first = runCli(args, env);
    await first.waitForOutput(/assigned tasks: 0_0, 0_1, 0_2/);
    // The stop lands while records stream in: after the first outputs, with more on their way.
    const producing = (async () => {
      for (const [b, batch] of batches.entries()) {
        await produce(input, batch);
        if (b === 7) {
          await waitFor('the first outputs', async () => (await recordCount(output)) > 0);
          first.child.kill('SIGTERM');
        }
      }
    })();
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toMatch(/stopped/);
    await producing;
    // A clean stop: every record read was written and committed, and nothing else was written.
    const beforeRestart = await recordCount(output);
    const committed = (await groupProgress(appId, [input])).reduce((n, p) => n + Math.max(0, Number(p.committed)), 0);
    expect(beforeRestart).toBe(committed);
    expect(beforeRestart).toBe(Number(/stopped \{"consumed":(\d+)/.exec(first.stderr())?.[1]));
    expect(beforeRestart).toBeGreaterThan(0);
    expect(beforeRestart).toBeLessThan(10_000);

    const second = runCli(args, env);
    try {
      const outputs = await readAllSettled(output, { group: appId, inputs: [input] });
      const expected = batches.flat().map((r) => r.value.toUpperCase());
      expect(outputs.map((r) => r.value).sort()).toEqual(expected.sort());
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  });
});
