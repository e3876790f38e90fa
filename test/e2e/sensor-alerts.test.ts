import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { brokers, createTopic, produce, readAll, uniqueName } from './helpers/kafka.ts';

describe("examples/sensor-alerts.ts (the README's example) through the CLI", () => {
  it('routes hot and freezing readings to alerts and every valid reading, in Fahrenheit, onwards', async () => {
    await createTopic('temperatures', 2);
    const reading = (sensorId: string, celsius: unknown, ts: number) => ({
      key: 'gateway-1',
      value: JSON.stringify({ sensorId, celsius, ts }),
    });
    await produce('temperatures', [
      reading('s1', 31.5, 1),
      reading('s2', 20, 2),
      reading('s3', -4, 3),
      reading('s4', 'warm', 4),
      { key: 'gateway-1', value: 'not json' },
      reading('s1', 30, 5),
    ]);

    const run = runCli(['start', 'examples/sensor-alerts.ts', '--brokers', brokers(), '--app-id', uniqueName('alerts')]);
    try {
      const alerts = await readAll('sensor-alerts', 3);
      expect(alerts.map((r) => [r.key, r.value])).toEqual([
        ['s1', 's1 is hot: 31.5 °C'],
        ['s3', 's3 is freezing: -4 °C'],
        ['s1', 's1 is hot: 30 °C'],
      ]);
      const converted = await readAll('temperatures-f', 4);
      expect(converted.map((r) => [r.key, JSON.parse(r.value!).fahrenheit])).toEqual([
        ['s1', 88.7],
        ['s2', 68],
        ['s3', 24.8],
        ['s1', 86],
      ]);
      await run.waitForOutput(/dead-lettered a record to alerts-[0-9a-f]+-dlq: source-0: .*not valid JSON/);
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
  });
});
