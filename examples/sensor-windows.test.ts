import { expect, it } from 'vitest';
import { TopologyTestDriver } from '../lib/testing/index.ts';
import sensorWindows, { topics } from './sensor-windows.ts';

interface Reading {
  sensorId: string;
  value: number;
  ts: number;
}

it('writes one count/min/max/avg per sensor and 10 s window once it closes, and drops the reading that came too late', async () => {
  const driver = new TopologyTestDriver(sensorWindows);
  const readings = driver.input<string, Reading>(topics.input);
  const stats = driver.output(topics.output);
  const read = (sensorId: string, value: number, ts: number) => readings.pipeInput('gw', { sensorId, value, ts }, { timestamp: ts });
  await read('s1', 20, 1_000);
  await read('s2', 5, 2_000);
  await read('s1', 24, 9_999);
  await read('s1', 22, 5_000);
  await read('s2', 7, 11_000);
  expect(stats.isEmpty()).toBe(true);
  // The readings' own time passes 10 s + 5 s of grace: [0, 10 s) closes.
  await read('s1', 30, 16_000);
  expect(stats.readOutputs().map((r) => [r.key, r.value, r.timestamp])).toEqual([
    ['s1', { sensorId: 's1', start: 0, end: 10_000, count: 3, min: 20, max: 24, avg: 22 }, 9_999],
    ['s2', { sensorId: 's2', start: 0, end: 10_000, count: 1, min: 5, max: 5, avg: 5 }, 2_000],
  ]);
  await read('s1', 99, 3_000);
  expect(driver.stats().lateRecords).toBe(1);
  await read('s2', 1, 26_000);
  expect(stats.readOutputs().map((r) => r.value)).toEqual([
    { sensorId: 's1', start: 10_000, end: 20_000, count: 1, min: 30, max: 30, avg: 30 },
    { sensorId: 's2', start: 10_000, end: 20_000, count: 1, min: 7, max: 7, avg: 7 },
  ]);
  // [20 s, 30 s) is still open: in the store, not in the output.
  expect(await driver.windowStore('sensor-totals').fetch('s2')).toEqual([
    { key: { key: 's2', start: 20_000, end: 30_000 }, value: { count: 1, min: 1, max: 1, sum: 1 } },
  ]);
  await driver.close();
});
