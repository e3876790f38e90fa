import { describe, expect, it } from 'vitest';
import { graphOf, topology } from '../../../lib/dsl/topology.ts';
import { hopping, joinWindows, session, sliding, tumbling } from '../../../lib/dsl/windows.ts';
import { describeGraph } from '../../../lib/graph/describe.ts';
import { childrenOf } from '../../../lib/graph/edges.ts';
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

/** Every kind of stateful node and an external sink, in one sub-topology (the join ties the table in). */
function stateful() {
  const t = topology('shop');
  const users = t.table('users', text, { name: 'users' });
  const clicks = t.stream('clicks', text);
  clicks.join(users, (c, u) => `${c}${u}`, { name: 'with-user' }).groupByKey().count({ name: 'counts' });
  clicks.groupByKey().windowedBy(tumbling(1000).grace(50)).count({ name: 'per-second', emit: 'final' });
  clicks.groupByKey().windowedBy(hopping(1000, 250), { late: 'dead-letter' }).reduce((a, b) => a + b, { name: 'hops' });
  clicks.groupByKey().windowedBy(session(300).grace(20)).count({ name: 'visits', emit: 'final' });
  clicks.sink({ name: 'postgres events', write: async () => {} }, { name: 'db' });
  return t;
}

describe('describe() of stateful nodes and external sinks', () => {
  it('text: tables, joins, aggregates, tumbling, hopping and session windows, external sinks', () => {
    expect(String(stateful().describe())).toBe(
      [
        'Topology: shop',
        '  Sub-topology: 0',
        '    Source: users-source (topic: users, key: string, value: string)',
        '      --> users',
        '    Processor: users (table, store: users, changelog: its source topic users)',
        '      --> none',
        '      <-- users-source',
        '    Source: source-1 (topic: clicks, key: string, value: string)',
        '      --> with-user, per-second, hops, visits, db',
        '    Processor: with-user (join, store: users)',
        '      --> counts',
        '      <-- source-1',
        '    Processor: counts (aggregate, store: counts, key: string, value: json)',
        '      --> none',
        '      <-- with-user',
        '    Processor: per-second (windowedAggregate, store: per-second, tumbling 1000 ms, grace 50 ms, emit final)',
        '      --> none',
        '      <-- source-1',
        '    Processor: hops (windowedAggregate, store: hops, hopping 1000 ms every 250 ms, grace 0 ms, emit update, late records to the dead-letter topic)',
        '      --> none',
        '      <-- source-1',
        '    Processor: visits (sessionAggregate, store: visits, gap 300 ms, grace 20 ms: closes at end + 320 ms, emit final)',
        '      --> none',
        '      <-- source-1',
        // An external sink ends the stream: no "-->" line, like a topic sink.
        '    Sink: db (external: postgres events)',
        '      <-- source-1',
      ].join('\n'),
    );
  });

  it('JSON: the store, windows, serdes and external sink of each node, nothing more', () => {
    const d = stateful().describe();
    expect(d.topics).toEqual({ sources: ['users', 'clicks'], sinks: [] });
    expect(d.subtopologies).toHaveLength(1);
    expect(d.subtopologies[0]).toMatchObject({ id: 0, sourceTopics: ['users', 'clicks'], sinkTopics: [] });
    const nodes = JSON.parse(JSON.stringify(d)).subtopologies[0].nodes;
    expect(nodes).toEqual([
      {
        name: 'users-source',
        kind: 'source',
        topic: 'users',
        serdes: { key: 'string', value: 'string' },
        parents: [],
        children: ['users'],
      },
      { name: 'users', kind: 'materialize', store: 'users', topic: 'users', parents: ['users-source'], children: [] },
      {
        name: 'source-1',
        kind: 'source',
        topic: 'clicks',
        serdes: { key: 'string', value: 'string' },
        parents: [],
        children: ['with-user', 'per-second', 'hops', 'visits', 'db'],
      },
      { name: 'with-user', kind: 'join', store: 'users', parents: ['source-1'], children: ['counts'] },
      {
        name: 'counts',
        kind: 'aggregate',
        store: 'counts',
        serdes: { key: 'string', value: 'json' },
        parents: ['with-user'],
        children: [],
      },
      {
        name: 'per-second',
        kind: 'windowedAggregate',
        store: 'per-second',
        windows: { size: 1000, advance: 1000, grace: 50, emit: 'final' },
        late: 'drop',
        serdes: { key: 'string', value: 'json' },
        parents: ['source-1'],
        children: [],
      },
      {
        name: 'hops',
        kind: 'windowedAggregate',
        store: 'hops',
        windows: { size: 1000, advance: 250, grace: 0, emit: 'update' },
        late: 'dead-letter',
        serdes: { key: 'string', value: 'json' },
        parents: ['source-1'],
        children: [],
      },
      {
        name: 'visits',
        kind: 'sessionAggregate',
        store: 'visits',
        session: { gap: 300, grace: 20, emit: 'final' },
        late: 'drop',
        serdes: { key: 'string', value: 'json' },
        parents: ['source-1'],
        children: [],
      },
      { name: 'db', kind: 'externalSink', external: 'postgres events', parents: ['source-1'], children: [] },
    ]);
  });

  it("a sink of windows says it is partitioned by the window's key, and that key's serde", () => {
    const t = topology('w');
    const windows = t.stream('clicks', text).groupByKey().windowedBy(tumbling(1000)).count({ name: 'per-second' }).toStream();
    windows.to('per-second-out');
    windows.map((n, w) => ({ key: w.key, value: n })).to('rekeyed', { value: serdes.json<number>() });
    expect(String(t.describe()).split('\n').filter((line) => line.includes('Sink:'))).toEqual([
      '    Sink: sink-2 (topic: per-second-out, key: json, value: json, partitioned by window key: string)',
      '    Sink: sink-4 (topic: rekeyed, key: auto, value: json)',
    ]);
    const sinks = t.describe().subtopologies[0]!.nodes.filter((n) => n.kind === 'sink');
    expect(sinks.map((n) => [n.topic, n.windowedKey])).toEqual([
      ['per-second-out', 'string'],
      ['rekeyed', undefined],
    ]);
    expect('windowedKey' in sinks[1]!).toBe(false);
  });

  it('an aggregate has no windows field; the description objects carry no undefined fields', () => {
    const nodes = stateful().describe().subtopologies[0]!.nodes;
    const counts = nodes.find((n) => n.name === 'counts')!;
    expect(counts).toStrictEqual({
      name: 'counts',
      kind: 'aggregate',
      store: 'counts',
      serdes: { key: 'string', value: 'json' },
      parents: ['with-user'],
      children: [],
    });
  });

  it('shows a custom aggregate value serde by its name', () => {
    const t = topology('app');
    const number = { name: 'number', serialize: (n: number) => Buffer.from(String(n)), deserialize: (b: Buffer) => Number(String(b)) };
    t.stream('in', text).groupByKey().aggregate(() => 0, (n) => n + 1, { name: 'n', value: number });
    expect(String(t.describe())).toContain('    Processor: n (aggregate, store: n, key: string, value: number)');
  });
});

/** A sliding-window count, a stream–stream join and a table–table join. */
function joins() {
  const t = topology('shop');
  const orders = t.stream('orders', text);
  orders.groupByKey().windowedBy(sliding(1000).grace(50)).count({ name: 'recent', emit: 'final' });
  orders.leftJoin(t.stream('payments', text), (o, p) => `${o}${p}`, joinWindows(500).before(100).grace(20), { name: 'paid' }).to('paid');
  t.table('users', text, { name: 'users' }).outerJoin(t.table('addresses', text, { name: 'addresses' }), (u, a) => `${u}${a}`, { name: 'profiles' });
  return t;
}

describe('describe() of sliding windows and joins', () => {
  it('text: the time difference, each side of a join with its stores and windows, the merge that ends a join', () => {
    const lines = String(joins().describe()).split('\n');
    expect(lines).toContain('    Processor: recent (slidingAggregate, store: recent, time difference 1000 ms, grace 50 ms, emit final)');
    expect(lines.slice(lines.indexOf('      <-- source-0') + 1, lines.indexOf('    Sink: sink-4 (topic: paid, key: string, value: auto)'))).toEqual([
      '    Source: source-2 (topic: payments, key: string, value: string)',
      '      --> paid-right',
      '    Processor: paid-left (left join, left side, store: paid-left, joins: paid-right, unmatched: paid-unmatched, right records 100 ms before to 500 ms after a left one, grace 20 ms)',
      '      --> paid',
      '      <-- source-0',
      '    Processor: paid-right (left join, right side, store: paid-right, joins: paid-left, unmatched: paid-unmatched, right records 100 ms before to 500 ms after a left one, grace 20 ms)',
      '      --> paid',
      '      <-- source-2',
      '    Processor: paid (merge)',
      '      --> sink-4',
      '      <-- paid-left, paid-right',
    ]);
    expect(lines).toContain('    Processor: profiles-left (outer join of tables users and addresses, left side, store: profiles, change times: profiles-times)');
    expect(lines).toContain('    Processor: profiles-right (outer join of tables users and addresses, right side, store: profiles, change times: profiles-times)');
  });

  it('JSON: the same, as data', () => {
    const nodes = JSON.parse(JSON.stringify(joins().describe())).subtopologies.flatMap((s: { nodes: unknown[] }) => s.nodes);
    const named = (name: string) => nodes.find((n: { name: string }) => n.name === name);
    expect(named('recent')).toEqual({
      name: 'recent',
      kind: 'slidingAggregate',
      store: 'recent',
      sliding: { timeDifference: 1000, grace: 50, emit: 'final' },
      late: 'drop',
      serdes: { key: 'string', value: 'json' },
      parents: ['source-0'],
      children: [],
    });
    expect(named('paid-right')).toEqual({
      name: 'paid-right',
      kind: 'streamJoin',
      store: 'paid-right',
      streamJoin: { side: 'right', join: 'left', before: 100, after: 500, grace: 20, other: 'paid-left', unmatched: 'paid-unmatched' },
      parents: ['source-2'],
      children: ['paid'],
    });
    expect(named('profiles-left')).toEqual({
      name: 'profiles-left',
      kind: 'tableJoin',
      store: 'profiles',
      tableJoin: { side: 'left', join: 'outer', tables: { left: 'users', right: 'addresses' }, times: 'profiles-times' },
      parents: ['users-source'],
      children: ['profiles'],
    });
  });
});

describe('childrenOf()', () => {
  it('answers none for a node that is not in the graph', () => {
    const t = topology('app');
    t.stream('in', text).to('out');
    const graph = graphOf(t);
    const children = childrenOf(graph);
    expect(children(graph.nodes[0]!).map((n) => n.name)).toEqual(['sink-1']);
    expect(children({ kind: 'merge', name: 'elsewhere', parents: [] })).toEqual([]);
  });

  it('does not throw on a parent missing from the graph: describe() does not validate', () => {
    const graph = { appId: 'x', nodes: [{ kind: 'peek', name: 'p', parents: ['missing'], fn: () => {} }] } as const;
    expect(childrenOf(graph as never)(graph.nodes[0] as never)).toEqual([]);
    expect(String(describeGraph(graph as never))).toBe(
      ['Topology: x', '  Sub-topology: 0', '    Processor: p (peek)', '      --> none', '      <-- missing'].join('\n'),
    );
  });
});
