import { TaskHarness } from '../../../lib/testing/task-harness.ts';
import { goldenKey, type GoldenCase, type GoldenRecord } from '../../golden/golden.ts';
import { caseTopology, type CaseTopology } from './topologies.ts';

/** Pipes a case through streamrun's Task harness, one record at a time as TopologyTestDriver does, and returns what reached `out`. */
export async function runStreamrun(spec: GoldenCase<CaseTopology>): Promise<GoldenRecord[]> {
  const harness = await TaskHarness.create(caseTopology(spec.topology));
  try {
    for (const r of spec.input) await harness.pipe(r.topic, { key: r.key, value: r.value, timestamp: r.timestamp });
    return harness
      .take('out')
      .map((o) => ({ after: o.after, key: goldenKey(o.key), value: o.value?.toString() ?? null, timestamp: o.timestamp }));
  } finally {
    await harness.close();
  }
}
