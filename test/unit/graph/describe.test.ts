import { describe, expect, it } from 'vitest';
import { topology } from '../../../lib/dsl/topology.ts';
import { serdes } from '../../../lib/serde/builtin.ts';

const text = { key: serdes.string, value: serdes.string };

function uppercase() {
  return topology('uppercase')
    .stream('input', text)
    .mapValues((v) => v.toUpperCase())
    .to('output', { value: serdes.string });
}

describe('describe().toString()', () => {
  it('reads like Kafka Streams for a small topology', () => {
    expect(uppercase().describe().toString()).toBe(
      [
        'Topology: uppercase',
        '  Sub-topology: 0',
        '    Source: source-0 (topic: input, key: string, value: string)',
        '      --> mapValues-1',
        '    Processor: mapValues-1 (mapValues)',
        '      --> sink-2',
        '      <-- source-0',
        '    Sink: sink-2 (topic: output, key: string, value: string)',
        '      <-- mapValues-1',
      ].join('\n'),
    );
  });

  it('shows branches, merges, fan-out, dangling streams and several sub-topologies', () => {
    const t = topology('shop');
    const orders = t.stream('orders', { key: serdes.string, value: serdes.json<{ total: number }>() });
    const { big, small } = orders.branch({ big: (o) => o.total >= 100, small: () => true }, { name: 'by-size' });
    big.to('big-orders');
    small.merge(big).peek(() => {});
    t.stream('refunds', { key: serdes.buffer, value: serdes.buffer }).map((v, k) => ({ key: k, value: v })).to('audit');
    expect(String(t.describe())).toBe(
      [
        'Topology: shop',
        '  Sub-topology: 0',
        '    Source: source-0 (topic: orders, key: string, value: json)',
        '      --> by-size',
        '    Processor: by-size (branch: big, small)',
        '      --> by-size-big, by-size-small',
        '      <-- source-0',
        '    Processor: by-size-big (branchOutput: big)',
        '      --> sink-2, merge-3',
        '      <-- by-size',
        '    Processor: by-size-small (branchOutput: small)',
        '      --> merge-3',
        '      <-- by-size',
        '    Sink: sink-2 (topic: big-orders, key: string, value: json)',
        '      <-- by-size-big',
        '    Processor: merge-3 (merge)',
        '      --> peek-4',
        '      <-- by-size-small, by-size-big',
        '    Processor: peek-4 (peek)',
        '      --> none',
        '      <-- merge-3',
        '  Sub-topology: 1',
        '    Source: source-5 (topic: refunds, key: buffer, value: buffer)',
        '      --> map-6',
        '    Processor: map-6 (map)',
        '      --> sink-7',
        '      <-- source-5',
        '    Sink: sink-7 (topic: audit, key: auto, value: auto)',
        '      <-- map-6',
      ].join('\n'),
    );
  });

  it('shows the auto serde a sink falls back to', () => {
    const t = topology('app');
    t.stream('in', text).mapValues((v) => v.length).to('out');
    expect(t.describe().toString()).toContain('Sink: sink-2 (topic: out, key: string, value: auto)');
  });

  it('describes an empty topology without throwing', () => {
    expect(topology('empty').describe().toString()).toBe('Topology: empty');
  });
});

describe('describe() as JSON', () => {
  it('is plain data', () => {
    expect(JSON.parse(JSON.stringify(uppercase().describe()))).toEqual({
      appId: 'uppercase',
      subtopologies: [
        {
          id: 0,
          sourceTopics: ['input'],
          sinkTopics: ['output'],
          nodes: [
            {
              name: 'source-0',
              kind: 'source',
              topic: 'input',
              serdes: { key: 'string', value: 'string' },
              parents: [],
              children: ['mapValues-1'],
            },
            { name: 'mapValues-1', kind: 'mapValues', parents: ['source-0'], children: ['sink-2'] },
            {
              name: 'sink-2',
              kind: 'sink',
              topic: 'output',
              serdes: { key: 'string', value: 'string' },
              parents: ['mapValues-1'],
              children: [],
            },
          ],
        },
      ],
      topics: { sources: ['input'], sinks: ['output'] },
    });
  });

  it('names branches on the branch node and its outputs', () => {
    const t = topology('app');
    t.stream('in', text).branch({ a: () => true, b: () => true }).b.to('out');
    const nodes = t.describe().subtopologies[0]?.nodes ?? [];
    expect(nodes.find((n) => n.kind === 'branch')?.branches).toEqual(['a', 'b']);
    expect(nodes.filter((n) => n.kind === 'branchOutput').map((n) => n.branch)).toEqual(['a', 'b']);
  });

  it('lists every topic once', () => {
    const t = topology('app');
    t.stream('a', text).to('out');
    const b = t.stream('b', text);
    b.to('out');
    b.to('other');
    expect(t.describe().topics).toEqual({ sources: ['a', 'b'], sinks: ['out', 'other'] });
  });

  it('is frozen', () => {
    expect(Object.isFrozen(uppercase().describe())).toBe(true);
  });
});
