import { describe, expect, it } from 'vitest';
import { graphOf, topology } from '../../../lib/dsl/topology.ts';
import { underAppId } from '../../../lib/graph/app-id.ts';
import { subtopologies } from '../../../lib/graph/subtopologies.ts';
import { serdes } from '../../../lib/serde/builtin.ts';

describe('underAppId()', () => {
  const app = topology('orders');
  app
    .stream('orders-in', { key: serdes.string, value: serdes.json<{ customer: string }>() })
    .groupBy((o) => o.customer, { key: serdes.string })
    .count({ name: 'per-customer' })
    .toStream()
    .to('orders-per-customer', { value: serdes.json<number>() });
  const graph = graphOf(app);

  it('moves internal topics to the new id and leaves the user\'s topics alone', () => {
    const topics = (g: typeof graph) => subtopologies(g).map((s) => [s.sourceTopics, s.sinkTopics]);
    expect(topics(graph)).toEqual([
      [['orders-in'], ['orders-per-customer-repartition']],
      [['orders-per-customer-repartition'], ['orders-per-customer']],
    ]);
    expect(topics(underAppId(graph, 'orders-staging'))).toEqual([
      [['orders-in'], ['orders-staging-per-customer-repartition']],
      [['orders-staging-per-customer-repartition'], ['orders-per-customer']],
    ]);
    expect(underAppId(graph, 'orders-staging').appId).toBe('orders-staging');
  });

  it('is the graph itself under its own id', () => {
    expect(underAppId(graph, 'orders')).toBe(graph);
  });
});
