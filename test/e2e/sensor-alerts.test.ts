import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.ts';
import { brokers, createTopic, produce, readAllSettled, uniqueName } from './helpers/kafka.ts';

describe("examples/sensor-alerts.ts (the README's example) through the CLI", () => {
  it('routes hot and freezing readings to alerts and every valid reading, in Fahrenheit, onwards', async () => {
    const topics = { input: uniqueName('temperatures'), alerts: uniqueName('sensor-alerts'), fahrenheit: uniqueName('temperatures-f') };
    const appId = uniqueName('alerts');
    await createTopic(topics.input, 2);
    const reading = (sensorId: string, celsius: unknown, ts: number) => ({
      key: 'gateway-1',
      value: JSON.stringify({ sensorId, celsius, ts }),
    });
    await produce(topics.input, [
      reading('s1', 31.5, 1),
      reading('s2', 20, 2),
      reading('s3', -4, 3),
      reading('s4', 'warm', 4),
      { key: 'gateway-1', value: 'not json' },
      reading('s1', 30, 5),
    ]);

    const run = runCli(['start', 'examples/sensor-alerts.ts', '--brokers', brokers(), '--app-id', appId], {
      INPUT_TOPIC: topics.input,
      ALERTS_TOPIC: topics.alerts,
      FAHRENHEIT_TOPIC: topics.fahrenheit,
    });
    try {
      const settled = (topic: string) => readAllSettled(topic, { group: appId, inputs: [topics.input] });
      const alerts = await settled(topics.alerts);
      expect(alerts.map((r) => [r.key, r.value])).toEqual([
        ['s1', 's1 is hot: 31.5 °C'],
        ['s3', 's3 is freezing: -4 °C'],
        ['s1', 's1 is hot: 30 °C'],
      ]);
      const converted = await settled(topics.fahrenheit);
      expect(converted.map((r) => [r.key, JSON.parse(r.value!).fahrenheit])).toEqual([
        ['s1', 88.7],
        ['s2', 68],
        ['s3', 24.8],
        ['s1', 86],
      ]);
      await run.waitForOutput(/dead-lettered a record to alerts-[0-9a-f]+-dlq: source-0: .*not valid JSON/);
      const letters = await settled(`${appId}-dlq`);
      expect(letters.map((r) => [r.key, r.value, String(r.headers?.['streamrun.node'])])).toEqual([['gateway-1', 'not json', 'source-0']]);
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
  });
});
