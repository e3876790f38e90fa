import { expect, it } from 'vitest';
import { serdes } from 'streamrun';
import { TopologyTestDriver } from '../lib/testing/index.ts';
import sensorAlerts, { topics } from './sensor-alerts.ts';

it('routes hot and freezing readings to alerts, every valid one in Fahrenheit onwards, and dead-letters what is not JSON', async () => {
  const driver = new TopologyTestDriver(sensorAlerts);
  const readings = driver.input(topics.input, { value: serdes.string });
  const reading = (sensorId: string, celsius: unknown, ts: number) => readings.pipeInput('gateway-1', JSON.stringify({ sensorId, celsius, ts }), { timestamp: ts });
  await reading('s1', 31.5, 1);
  await reading('s2', 20, 2);
  await reading('s3', -4, 3);
  await reading('s4', 'warm', 4);
  await readings.pipeInput('gateway-1', 'not json', { timestamp: 5 });
  await reading('s1', 30, 6);

  expect(driver.output(topics.alerts).readOutputs().map((r) => [r.key, r.value])).toEqual([
    ['s1', 's1 is hot: 31.5 °C'],
    ['s3', 's3 is freezing: -4 °C'],
    ['s1', 's1 is hot: 30 °C'],
  ]);
  const fahrenheit = driver.output<string, { fahrenheit: number }>(topics.fahrenheit).readOutputs();
  expect(fahrenheit.map((r) => [r.key, r.value?.fahrenheit])).toEqual([
    ['s1', 88.7],
    ['s2', 68],
    ['s3', 24.8],
    ['s1', 86],
  ]);
  const letters = driver.output(`${driver.appId}-dlq`, { key: serdes.string, value: serdes.string }).readOutputs();
  expect(letters.map((r) => [r.key, r.value, r.headers['streamrun.node'], r.headers['streamrun.error.class']])).toEqual([
    ['gateway-1', 'not json', 'source-0', 'SyntaxError'],
  ]);
  await driver.close();
});
