import { expect, it } from 'vitest';
import { TopologyTestDriver } from '../lib/testing/index.ts';
import uppercase, { topics } from './uppercase.ts';

it('upper-cases every value and keeps its key, time and headers', async () => {
  const driver = new TopologyTestDriver(uppercase);
  await driver.input<string, string>(topics.input).pipeInputs([
    { key: 'a', value: 'hello', timestamp: 1, headers: { trace: 't1' } },
    { key: null, value: 'ça va', timestamp: 2 },
  ]);
  expect(driver.output(topics.output).readOutputs()).toEqual([
    { key: 'a', value: 'HELLO', timestamp: 1, headers: { trace: 't1' } },
    { key: null, value: 'ÇA VA', timestamp: 2, headers: {} },
  ]);
  await driver.close();
});
