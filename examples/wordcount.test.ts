import { expect, it } from 'vitest';
// In an application: import { TopologyTestDriver } from 'streamrun/testing';
import { TopologyTestDriver } from '../lib/testing/index.ts';
import wordcount from './wordcount.ts';

it('counts the words of each line as they come, and keeps the counts in its store', async () => {
  const driver = new TopologyTestDriver(wordcount);
  const lines = driver.input<string, string>('text-lines');
  await lines.pipeInput('line-1', 'The quick brown fox', { timestamp: 1_000 });
  await lines.pipeInput('line-2', 'jumps over the lazy dog', { timestamp: 2_000 });

  const counts = driver.output<string, number>('word-counts');
  // Every new count is an output, stamped with the newest line's time.
  expect(counts.readOutputs().filter((r) => r.key === 'the').map((r) => [r.value, r.timestamp])).toEqual([
    [1, 1_000],
    [2, 2_000],
  ]);
  expect(await driver.store<string, number>('counts').get('the')).toBe(2);
  expect(await driver.store('counts').range({ from: 'd', to: 'm' })).toEqual([
    { key: 'dog', value: 1 },
    { key: 'fox', value: 1 },
    { key: 'jumps', value: 1 },
    { key: 'lazy', value: 1 },
  ]);
  await driver.close();
});
