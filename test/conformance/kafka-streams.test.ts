import { describe, expect, inject, it } from 'vitest';
import { runStreamrun } from '../unit/golden/run-streamrun.ts';
import { conformanceCases } from './cases.ts';
import { kafkaStreamsOutput } from './kafka-streams-twin.ts';

/**
 * The conformance suite: each seeded case (test/conformance/cases.ts) runs through Kafka Streams
 * 4.4's TopologyTestDriver (kafka-streams-twin.ts, before the tests) and through streamrun's Task
 * harness, and both must emit the same records — keys, values, timestamps — in the same order,
 * after the same input record.
 */
describe('conformance with Kafka Streams 4.4 on seeded inputs', () => {
  const cases = conformanceCases();

  it('covers every window kind, aggregation, emit mode and grace, regrouping and every kind of join', () => {
    expect(cases.length).toBe(74);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  for (const spec of cases) {
    it(`${spec.name}: ${spec.description}`, async () => {
      const expected = await kafkaStreamsOutput(inject('kafkaStreamsOutputs'), spec.name);
      // Every case must exercise something: an empty output would compare equal to nothing at all.
      expect(expected.length).toBeGreaterThan(0);
      expect(await runStreamrun(spec)).toEqual(expected);
    });
  }
});
