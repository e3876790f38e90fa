import { describe, expect, it } from 'vitest';
import { TaskHarness } from '../../../lib/testing/task-harness.ts';
import { goldenCase, goldenCaseNames, goldenExpectedNames, goldenOutput } from '../../golden/golden.ts';
import { runStreamrun } from './run-streamrun.ts';
import { caseTopology, type CaseTopology } from './topologies.ts';

/**
 * Each case of test/golden/cases runs through streamrun's Task harness and must emit exactly
 * what Kafka Streams' TopologyTestDriver emitted for it (test/golden/expected, written by
 * `npm run golden`): the same records, in the same order, after the same input record.
 * Timestamps too: an aggregate carries the newest timestamp of its records, a join the stream record's.
 */
describe('the same records as Kafka Streams 4.4 (TopologyTestDriver)', () => {
  const names = goldenCaseNames();

  it('has a golden file for every case', () => {
    expect(goldenExpectedNames()).toEqual(names);
    expect(names.length).toBe(40);
  });

  for (const name of names) {
    const spec = goldenCase<CaseTopology>(name);
    it(`${name}: ${spec.description}`, async () => {
      expect(await runStreamrun(spec)).toEqual(goldenOutput(name));
    });
  }

  it('stamps a join result with the stream record’s time, as Kafka Streams does', async () => {
    const spec = goldenCase<CaseTopology>('left-join');
    const harness = await TaskHarness.create(caseTopology(spec.topology));
    for (const r of spec.input) await harness.pipe(r.topic, { key: r.key, value: r.value, timestamp: r.timestamp });
    expect(harness.take('out').map((o) => o.timestamp)).toEqual(goldenOutput('left-join').map((r) => r.timestamp));
  });
});
