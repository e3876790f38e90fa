import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { useCleanup } from './helpers/cleanup.ts';
import { brokers, createTopic, produce, readAll, readAllSettled, uniqueName } from './helpers/kafka.ts';

describe('examples/sensor-windows.ts through the CLI', () => {
  const cleanup = useCleanup();
  it('writes one min/max/avg/count per sensor and closed 10 s window, and drops the late reading', async () => {
    const input = uniqueName('sensor-readings');
    const output = uniqueName('sensor-stats');
    const appId = uniqueName('sensor-windows');
    await createTopic(input, 1);
    const reading = (sensorId: string, value: number, ts: number) => ({ key: 'gw', value: JSON.stringify({ sensorId, value, ts }) });
    await produce(input, [
      reading('s1', 20, 1_000),
      reading('s2', 5, 2_000),
      reading('s1', 24, 9_999),
      reading('s1', 22, 5_000),
      reading('s2', 7, 11_000),
      reading('s1', 30, 16_000), // stream time 16 s: [0, 10 s) closes (end 10 s + grace 5 s)
      reading('s1', 99, 3_000), // late: its window closed
      reading('s2', 1, 26_000), // stream time 26 s: [10 s, 20 s) closes
    ]);

    const run = runCli(['start', 'examples/sensor-windows.ts', '--brokers', brokers(), '--app-id', appId, '--state-dir', await cleanup.tempDir('streamrun-sensor-windows-')], { INPUT_TOPIC: input, OUTPUT_TOPIC: output });
    try {
      // A final window comes out when stream time passes its grace, which can be after the
      // commit that covered its records (a writer held back as still catching up, see
      // input-progress.ts): the four are waited for, then the output must stay at four.
      await readAll(output, 4);
      const stats = await readAllSettled(output, { group: appId, inputs: [input, `${appId}-sensor-totals-repartition`] });
      expect(stats.map((r) => [r.key, JSON.parse(r.value!)])).toEqual([
        ['s1', { sensorId: 's1', start: 0, end: 10_000, count: 3, min: 20, max: 24, avg: 22 }],
        ['s2', { sensorId: 's2', start: 0, end: 10_000, count: 1, min: 5, max: 5, avg: 5 }],
        // Windows closing together go out by key bytes, as Kafka Streams emits them.
        ['s1', { sensorId: 's1', start: 10_000, end: 20_000, count: 1, min: 30, max: 30, avg: 30 }],
        ['s2', { sensorId: 's2', start: 10_000, end: 20_000, count: 1, min: 7, max: 7, avg: 7 }],
      ]);
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.stderr()).toMatch(/"lateRecords":1/);
    }
  });
});
