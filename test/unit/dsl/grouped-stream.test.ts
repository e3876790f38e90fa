import { describe, expect, it } from 'vitest';
import { graphOf } from '../../../lib/dsl/topology.ts';
import { subtopologies } from '../../../lib/graph/subtopologies.ts';
import { serdes, topology } from '../../../lib/index.ts';

describe('groupByKey and groupBy', () => {
  it('aggregates in place when the key did not change', () => {
    const app = topology('app');
    app
      .stream('in', { key: serdes.string, value: serdes.string })
      .filter((v) => v !== '')
      .groupByKey()
      .count({ name: 'counts' })
      .toStream()
      .to('out');
    const graph = graphOf(app);
    expect(subtopologies(graph)).toHaveLength(1);
    const aggregate = graph.nodes.find((n) => n.kind === 'aggregate')!;
    expect(aggregate).toMatchObject({ name: 'counts', store: 'counts', named: true, parents: ['filter-1'] });
  });

  it('goes through <appId>-<name>-repartition after a re-key, splitting the sub-topologies', () => {
    const app = topology('app');
    app
      .stream('in', { key: serdes.string, value: serdes.string })
      .map((v) => ({ key: v, value: v.length }))
      .peek(() => {})
      .groupByKey({ key: serdes.string })
      .reduce((a, b) => a + b, { name: 'sums' })
      .toStream()
      .to('out');
    const graph = graphOf(app);
    const subs = subtopologies(graph);
    expect(subs.map((s) => [s.sourceTopics, s.sinkTopics])).toEqual([
      [['in'], ['app-sums-repartition']],
      [['app-sums-repartition'], ['out']],
    ]);
    const sink = graph.nodes.find((n) => n.name === 'sums-repartition-sink');
    expect(sink).toMatchObject({ kind: 'sink', internal: true, parents: ['peek-2'] });
    expect(sink?.kind === 'sink' && [sink.serdes.key.name, sink.serdes.value.name]).toEqual(['string', 'json']);
  });

  it('groupBy re-keys with the selector and keeps the value serde for the repartition topic', () => {
    const app = topology('app');
    app
      .stream('in', { key: serdes.string, value: serdes.json<{ user: string }>() })
      .groupBy((v) => v.user, { key: serdes.string })
      .count({ name: 'per-user' })
      .toStream()
      .to('out');
    const graph = graphOf(app);
    expect(subtopologies(graph)).toHaveLength(2);
    const rekey = graph.nodes.find((n) => n.kind === 'map')!;
    expect(rekey.kind === 'map' && rekey.fn({ user: 'ann' }, 'k', {} as never)).toEqual({ key: 'ann', value: { user: 'ann' } });
  });

  it('names an unnamed store after its node and marks it unnamed', () => {
    const app = topology('app');
    app.stream('in', { key: serdes.string, value: serdes.string }).groupByKey().count().toStream().to('out');
    const aggregate = graphOf(app).nodes.find((n) => n.kind === 'aggregate')!;
    expect(aggregate).toMatchObject({ name: 'aggregate-1', store: 'aggregate-1', named: false });
  });
});

describe('re-keying', () => {
  it('survives a merge: a merged re-keyed stream is repartitioned before grouping', () => {
    const app = topology('app');
    const a = app.stream('a', { key: serdes.string, value: serdes.string }).map((v, k) => ({ key: k, value: v }));
    const b = app.stream('b', { key: serdes.string, value: serdes.string });
    a.merge(b).groupByKey({ key: serdes.string }).count({ name: 'n' }).toStream().to('out');
    expect(graphOf(app).nodes.map((n) => n.name)).toContain('n-repartition-sink');
  });
});
