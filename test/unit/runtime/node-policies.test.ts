import { describe, expect, it } from 'vitest';
import { graphOf } from '../../../lib/dsl/topology.ts';
import { resolveErrorPolicy } from '../../../lib/errors/policy.ts';
import { serdes, topology, tumbling } from '../../../lib/index.ts';
import { NodePolicies } from '../../../lib/runtime/node-policies.ts';

const text = { key: serdes.string, value: serdes.string };

function nodes() {
  const app = topology('p');
  const input = app.stream('in', text);
  input.mapValues((v) => v, { name: 'own', errors: { retries: 1, deadLetterTopic: 'own-dlq' } }).to('out', text);
  input.mapValues((v) => v, { name: 'skips', errors: { onExhausted: 'skip', deadLetterTopic: 'never' } }).to('out', text);
  input.groupByKey().windowedBy(tumbling(10), { late: 'dead-letter' }).count({ name: 'late' });
  return graphOf(app).nodes;
}

describe('NodePolicies', () => {
  const base = resolveErrorPolicy({ retries: 5 }, 'p');

  it("gives a node its own policy over the runner's, and the runner's to a node without one or to no node", () => {
    const policies = new NodePolicies(nodes(), 'p', base);
    expect(policies.of('own')).toMatchObject({ retries: 1, deadLetterTopic: 'own-dlq', onExhausted: 'dlq' });
    expect(policies.of('late')).toBe(base);
    expect(policies.of(undefined)).toBe(base);
  });

  it('lists each topic a dead letter may go to once: of the policies that dead-letter, and of nodes that dead-letter late records', () => {
    expect(new NodePolicies(nodes(), 'p', base).deadLetterTopics()).toEqual(['p-dlq', 'own-dlq']);
    // Skipping is inherited, by `own` too: late records still go to the runner's topic.
    expect(new NodePolicies(nodes(), 'p', resolveErrorPolicy({ onExhausted: 'skip' }, 'p')).deadLetterTopics()).toEqual(['p-dlq']);
  });
});
