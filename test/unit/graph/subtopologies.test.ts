import { describe, expect, it } from 'vitest';
import { graphOf, topology } from '../../../lib/dsl/topology.ts';
import { childrenOf } from '../../../lib/graph/edges.ts';
import { subtopologies } from '../../../lib/graph/subtopologies.ts';
import { serdes } from '../../../lib/serde/builtin.ts';

const text = { key: serdes.string, value: serdes.string };

describe('subtopologies()', () => {
  it('splits independent sources into sub-topologies numbered by their first source', () => {
    const t = topology('app');
    const a = t.stream('a', text);
    const b = t.stream('b', text);
    b.mapValues((v) => v).to('b-out');
    a.to('a-out');
    const subs = subtopologies(graphOf(t));
    expect(subs.map((s) => ({ ...s, nodes: s.nodes.map((n) => n.name) }))).toEqual([
      { id: 0, sourceTopics: ['a'], sinkTopics: ['a-out'], nodes: ['source-0', 'sink-4'] },
      { id: 1, sourceTopics: ['b'], sinkTopics: ['b-out'], nodes: ['source-1', 'mapValues-2', 'sink-3'] },
    ]);
  });

  it('joins merged sources into one sub-topology', () => {
    const t = topology('app');
    const a = t.stream('a', text);
    const b = t.stream('b', text);
    const c = t.stream('c', text);
    c.to('c-out');
    a.merge(b.filter(() => true)).to('out');
    a.to('out');
    const subs = subtopologies(graphOf(t));
    expect(subs.map((s) => [s.id, s.sourceTopics, s.sinkTopics])).toEqual([
      [0, ['a', 'b'], ['out']],
      [1, ['c'], ['c-out']],
    ]);
    expect(subs[0]?.nodes.map((n) => n.name)).toEqual([
      'source-0',
      'source-1',
      'filter-4',
      'merge-5',
      'sink-6',
      'sink-7',
    ]);
  });

  it('keeps a branch and all its outputs together', () => {
    const t = topology('app');
    const { x, y } = t.stream('in', text).branch({ x: () => true, y: () => false });
    x.to('x');
    y.to('y');
    const [sub, ...rest] = subtopologies(graphOf(t));
    expect(rest).toEqual([]);
    expect(sub?.sinkTopics).toEqual(['x', 'y']);
    expect(sub?.nodes).toHaveLength(6);
  });

  it('returns nothing for an empty graph', () => {
    expect(subtopologies({ appId: 'x', nodes: [] })).toEqual([]);
  });
});

describe('childrenOf()', () => {
  it('lists each node’s children in build order, and none for a leaf', () => {
    const t = topology('app');
    const input = t.stream('in', text);
    input.to('one');
    input.mapValues((v) => v).to('two');
    const graph = graphOf(t);
    const children = childrenOf(graph);
    const names = (i: number) => children(graph.nodes[i]!).map((n) => n.name);
    expect(names(0)).toEqual(['sink-1', 'mapValues-2']);
    expect(names(1)).toEqual([]);
    expect(names(2)).toEqual(['sink-3']);
  });
});

describe('subtopologies() of a graph that was not validated', () => {
  it('keeps nodes apart whose parents are missing from the graph, each parent its own', () => {
    const graph = {
      appId: 'x',
      nodes: [
        { kind: 'merge', name: 'p1', parents: ['missing-1'] },
        { kind: 'merge', name: 'p2', parents: ['missing-2'] },
      ],
    } as const;
    expect(subtopologies(graph as never).map((s) => s.nodes.map((n) => n.name))).toEqual([['p1'], ['p2']]);
  });
});
