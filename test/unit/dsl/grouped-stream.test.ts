import { describe, expect, it } from 'vitest';
import { graphOf } from '../../../lib/dsl/topology.ts';
import { subtopologies } from '../../../lib/graph/subtopologies.ts';
import { hopping, serdes, session, sliding, topology, tumbling } from '../../../lib/index.ts';
import type { AggregateNode, GraphNode, SessionAggregateNode, SlidingAggregateNode, WindowedAggregateNode } from '../../../lib/graph/nodes.ts';
import type { Serde } from '../../../lib/serde/serde.ts';

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

const text = { key: serdes.string, value: serdes.string };
const number: Serde<number> = { name: 'number', serialize: (n) => Buffer.from(String(n)), deserialize: (b) => Number(String(b)) };
const invalid = (message: string) => expect.objectContaining({ name: 'StreamrunError', code: 'INVALID_TOPOLOGY', message });

/** A topology with one string stream, grouped by key; `nodes()` is its graph. */
function grouped() {
  const app = topology('app');
  const g = app.stream('in', text).groupByKey();
  return { app, g, nodes: () => [...graphOf(app).nodes] };
}

function nodeNamed(nodes: readonly GraphNode[], name: string): GraphNode {
  const found = nodes.find((n) => n.name === name);
  if (found === undefined) throw new Error(`no node ${name}`);
  return found;
}

describe('the aggregate nodes', () => {
  it('aggregate: the initializer and aggregator as given, the key serde of the stream, the value serde given', () => {
    const { g, nodes } = grouped();
    const init = () => 0;
    const add = (n: number, v: string) => n + v.length;
    const table = g.aggregate(init, add, { name: 'lengths', value: number });
    expect(table.store).toBe('lengths');
    expect(nodeNamed(nodes(), 'lengths')).toEqual({
      kind: 'aggregate',
      name: 'lengths',
      parents: ['source-0'],
      store: 'lengths',
      named: true,
      initializer: init,
      aggregator: add,
      serdes: { key: serdes.string, value: number },
    });
  });

  it('aggregate without options: a generated name, unnamed, values as JSON', () => {
    const { g, nodes } = grouped();
    g.aggregate(() => 0, (n) => n + 1);
    expect(nodeNamed(nodes(), 'aggregate-1')).toMatchObject({ store: 'aggregate-1', named: false, serdes: { key: serdes.string, value: serdes.json() } });
  });

  it('count: starts at 0 and adds 1 per record, kept as JSON', () => {
    const { g, nodes } = grouped();
    g.count({ name: 'n' });
    const node = nodeNamed(nodes(), 'n') as AggregateNode;
    expect(node.serdes.value).toBe(serdes.json());
    expect(node.initializer()).toBe(0);
    expect(node.aggregator(node.aggregator(node.initializer(), 'a', 'k'), 'b', 'k')).toBe(2);
  });

  it('reduce: the first value is the start, then the reducer combines; no options needed', () => {
    const { g, nodes } = grouped();
    const calls: unknown[] = [];
    g.reduce((a, b, k) => {
      calls.push([a, b, k]);
      return `${a}+${b}`;
    });
    const node = nodeNamed(nodes(), 'aggregate-1') as AggregateNode;
    expect(node.named).toBe(false);
    const first = node.aggregator(node.initializer(), 'x', 'k');
    expect(first).toBe('x');
    expect(calls).toEqual([]);
    expect(node.aggregator(first, 'y', 'k')).toBe('x+y');
    expect(calls).toEqual([['x', 'y', 'k']]);
  });

  it('reduce with a value serde keeps it', () => {
    const { g, nodes } = grouped();
    g.reduce((a, b) => a + b, { name: 'r', value: serdes.string });
    expect((nodeNamed(nodes(), 'r') as AggregateNode).serdes.value).toBe(serdes.string);
  });

  it('the table of an aggregate passes on the store serdes to a sink', () => {
    const { app, g } = grouped();
    g.aggregate(() => 0, (n) => n + 1, { name: 'n', value: number }).toStream().to('out');
    expect(graphOf(app).nodes.at(-1)).toMatchObject({ kind: 'sink', parents: ['n'], serdes: { key: serdes.string, value: number } });
  });
});

describe('windowed aggregate nodes', () => {
  it('time windows: size, advance, grace, emit and the timestamp extractor', () => {
    const { g, nodes } = grouped();
    const timestamp = () => 5;
    g.windowedBy(hopping(1000, 250).grace(50), { timestamp, late: 'dead-letter' }).count({ name: 'c', emit: 'final' });
    const node = nodeNamed(nodes(), 'c') as WindowedAggregateNode;
    expect(node).toEqual({
      kind: 'windowedAggregate',
      name: 'c',
      parents: ['source-0'],
      store: 'c',
      named: true,
      initializer: expect.any(Function),
      aggregator: expect.any(Function),
      serdes: { key: serdes.string, value: serdes.json() },
      windows: { size: 1000, advance: 250, grace: 50 },
      emit: 'final',
      timestamp,
      late: 'dead-letter',
    });
    expect(node.aggregator(node.aggregator(node.initializer(), 'a', 'k'), 'b', 'k')).toBe(2);
  });

  it("emits 'update' by default and without a timestamp extractor uses none", () => {
    const { g, nodes } = grouped();
    g.windowedBy(tumbling(10)).count();
    const node = nodeNamed(nodes(), 'aggregate-1') as WindowedAggregateNode;
    expect(node).toMatchObject({ emit: 'update', windows: { size: 10, advance: 10, grace: 0 }, named: false, late: 'drop' });
    expect(node.timestamp).toBeUndefined();
    g.windowedBy(tumbling(10)).count({ emit: undefined, name: 'explicit' });
    expect(nodeNamed(nodes(), 'explicit')).toMatchObject({ emit: 'update' });
  });

  it('windowed reduce and aggregate keep their functions and serdes', () => {
    const { g, nodes } = grouped();
    const init = () => '';
    const agg = (a: string, v: string) => a + v;
    g.windowedBy(tumbling(10)).aggregate(init, agg, { name: 'a', value: serdes.string });
    expect(nodeNamed(nodes(), 'a')).toMatchObject({ kind: 'windowedAggregate', initializer: init, aggregator: agg, serdes: { value: serdes.string } });
    g.windowedBy(tumbling(10)).reduce((a, b) => `${a}${b}`);
    const reduce = nodeNamed(nodes(), 'aggregate-2') as WindowedAggregateNode;
    expect(reduce.aggregator(reduce.aggregator(reduce.initializer(), 'x', 'k'), 'y', 'k')).toBe('xy');
  });

  it('session windows: gap, grace, emit, and a merger for count, reduce and aggregate', () => {
    const { g, nodes } = grouped();
    const timestamp = () => 1;
    g.windowedBy(session(300).grace(20), { timestamp }).count({ name: 'visits', emit: 'final' });
    const count = nodeNamed(nodes(), 'visits') as SessionAggregateNode;
    expect(count).toEqual({
      kind: 'sessionAggregate',
      name: 'visits',
      parents: ['source-0'],
      store: 'visits',
      named: true,
      initializer: expect.any(Function),
      aggregator: expect.any(Function),
      merger: expect.any(Function),
      serdes: { key: serdes.string, value: serdes.json() },
      gap: 300,
      grace: 20,
      emit: 'final',
      timestamp,
      late: 'drop',
    });
    expect(count.merger(2, 3, 'k')).toBe(5);

    g.windowedBy(session(300)).reduce((a, b, k) => `${a}|${b}|${k}`, { name: 'joined' });
    const reduce = nodeNamed(nodes(), 'joined') as SessionAggregateNode;
    expect(reduce).toMatchObject({ gap: 300, grace: 0, emit: 'update' });
    expect(reduce.merger('a', 'b', 'k')).toBe('a|b|k');
    // A session that got no value yet merges into the other as it is.
    const empty = reduce.initializer();
    expect(reduce.merger(empty, 'b', 'k')).toBe('b');
    expect(reduce.merger('a', empty, 'k')).toBe('a');

    const merge = (a: number, b: number) => Math.max(a, b);
    g.windowedBy(session(300)).aggregate(() => 0, (n) => n + 1, { name: 'max', merge });
    expect((nodeNamed(nodes(), 'max') as SessionAggregateNode).merger).toBe(merge);
  });

  it('sliding windows: time difference, grace, emit and the timestamp extractor; no merger needed', () => {
    const { g, nodes } = grouped();
    const timestamp = () => 3;
    g.windowedBy(sliding(100).grace(10), { timestamp }).count({ name: 'recent', emit: 'final' });
    const count = nodeNamed(nodes(), 'recent') as SlidingAggregateNode;
    expect(count).toEqual({
      kind: 'slidingAggregate',
      name: 'recent',
      parents: ['source-0'],
      store: 'recent',
      named: true,
      initializer: expect.any(Function),
      aggregator: expect.any(Function),
      serdes: { key: serdes.string, value: serdes.json() },
      timeDifference: 100,
      grace: 10,
      emit: 'final',
      timestamp,
      late: 'drop',
    });
    expect(count.aggregator(count.aggregator(count.initializer(), 'a', 'k'), 'b', 'k')).toBe(2);
    g.windowedBy(sliding(5)).aggregate(() => '', (a, v) => a + v, { name: 'text', value: serdes.string });
    expect(nodeNamed(nodes(), 'text')).toMatchObject({ kind: 'slidingAggregate', timeDifference: 5, grace: 0, emit: 'update' });
    g.windowedBy(sliding(5)).reduce((a, b) => `${a}${b}`, { name: 'r' });
    const reduce = nodeNamed(nodes(), 'r') as SlidingAggregateNode;
    expect(reduce.aggregator(reduce.aggregator(reduce.initializer(), 'x', 'k'), 'y', 'k')).toBe('xy');
  });

  it('a windowed table writes its windowed key as JSON unless told otherwise, and keeps the value serde', () => {
    const { app, g } = grouped();
    g.windowedBy(tumbling(10)).aggregate(() => 0, (n) => n + 1, { name: 'n', value: number }).toStream().to('out');
    expect(graphOf(app).nodes.at(-1)).toMatchObject({ kind: 'sink', serdes: { key: serdes.json(), value: number } });
  });

  it("a sink of windowed keys is partitioned by the key inside, with the group's key serde, also after key-preserving operators", () => {
    const { app, g } = grouped();
    const windows = g.windowedBy(hopping(10, 5)).count({ name: 'n' }).toStream();
    windows.to('direct');
    windows.mapValues((n) => n * 2).filter((n) => n > 2).peek(() => {}).to('kept', { key: serdes.json(), value: number });
    windows.flatMapValues((n) => [n]).enrich(async (n) => n).to('kept-too');
    windows.branch({ big: (n) => n > 9 }).big.merge(windows.filter((n) => n < 3)).to('merged');
    const sessions = g.windowedBy(session(10)).count({ name: 's' }).toStream();
    sessions.to('sessions');
    const sinks = graphOf(app).nodes.filter((n) => n.kind === 'sink');
    expect(sinks.map((n) => [n.topic, n.windowedKey])).toEqual([
      ['direct', serdes.string],
      ['kept', serdes.string],
      ['kept-too', serdes.string],
      ['merged', serdes.string],
      ['sessions', serdes.string],
    ]);
  });

  it('a re-key, a grouping again, or a merge with a stream of other keys ends the windowed partitioning', () => {
    const { app, g } = grouped();
    const windows = g.windowedBy(tumbling(10)).count({ name: 'n' }).toStream();
    windows.map((n, w) => ({ key: w.key, value: n })).to('rekeyed');
    windows.groupByKey().count({ name: 'again' }).toStream().to('regrouped');
    // Windows of keys written another way: no one serde says where their keys go.
    const other: Serde<string> = { ...serdes.string, name: 'other' };
    const others = app.stream('other', text).groupByKey({ key: other }).windowedBy(tumbling(10)).count({ name: 'o' }).toStream();
    windows.merge(others).to('mixed');
    g.count({ name: 'plain-counts' }).toStream().to('not-windowed');
    const sinks = graphOf(app).nodes.filter((n) => n.kind === 'sink');
    expect(sinks.map((n) => [n.topic, 'windowedKey' in n])).toEqual([
      ['rekeyed', false],
      ['regrouped', false],
      ['mixed', false],
      ['not-windowed', false],
    ]);
  });

  it('a sub-topology that ends in a session store is complete: the store can be queried', () => {
    const { app, g } = grouped();
    g.windowedBy(session(10)).count({ name: 'sessions' });
    expect(graphOf(app).nodes.map((n) => n.kind)).toEqual(['source', 'sessionAggregate']);
  });
});

describe('repartitioning before an aggregate', () => {
  it('a sink and a source of <appId>-<name>-repartition, internal, with the key serde and the value serde (JSON when unknown)', () => {
    const app = topology('app');
    app
      .stream('in', text)
      .map((v) => ({ key: v, value: v }))
      .groupByKey({ key: serdes.string })
      .count({ name: 'n' });
    const io = { key: serdes.string, value: serdes.json() };
    expect(graphOf(app).nodes.slice(2)).toEqual([
      { kind: 'sink', name: 'n-repartition-sink', parents: ['map-1'], topic: 'app-n-repartition', serdes: io, internal: true },
      { kind: 'source', name: 'n-repartition-source', parents: [], topic: 'app-n-repartition', serdes: io, internal: true },
      expect.objectContaining({ kind: 'aggregate', name: 'n', parents: ['n-repartition-source'] }),
    ]);
  });

  it('windowed aggregates are repartitioned too', () => {
    const app = topology('app');
    app
      .stream('in', text)
      .flatMap((v) => [{ key: v, value: v }])
      .groupByKey()
      .windowedBy(tumbling(10))
      .count({ name: 'w' });
    expect(graphOf(app).nodes.map((n) => `${n.kind}:${n.name}`)).toEqual([
      'source:source-0',
      'flatMap:flatMap-1',
      'sink:w-repartition-sink',
      'source:w-repartition-source',
      'windowedAggregate:w',
    ]);
  });
});

describe('grouped-stream arguments', () => {
  const w = 'groupByKey()';

  it('reduce and windowed reduce want a function', () => {
    const { g } = grouped();
    const message = `${w}.reduce() after source-0: the callback must be a function; got "x"`;
    expect(() => g.reduce('x' as never)).toThrow(invalid(message));
    expect(() => g.windowedBy(tumbling(10)).reduce('x' as never)).toThrow(invalid(message));
  });

  it('aggregate wants an initializer, an aggregator and options that are an object', () => {
    const { app, g } = grouped();
    expect(() => g.aggregate('x' as never, () => 0)).toThrow(invalid(`${w}.aggregate() after source-0: the initializer must be a function; got "x"`));
    expect(() => g.aggregate(() => 0, 5 as never)).toThrow(invalid(`${w}.aggregate() after source-0: the aggregator must be a function; got 5`));
    expect(() => g.aggregate(() => 0, (n) => n, 'x' as never)).toThrow(invalid(`${w}.aggregate() after source-0: options must be an object; got "x"`));
    expect(() => g.aggregate(() => 0, (n) => n, null as never)).toThrow(invalid(`${w}.aggregate() after source-0: options must be an object; got null`));
    expect(() => g.aggregate(() => 0, (n) => n, { value: 'json' as never })).toThrow(
      invalid(`${w}.aggregate() after source-0: options.value must be a Serde (an object with name, serialize and deserialize); got "json"`),
    );
    // Nothing was added: a graph of the source alone.
    expect(app.describe().subtopologies[0]!.nodes.map((n) => n.name)).toEqual(['source-0']);
  });

  it('names are checked where the operator is', () => {
    const { g } = grouped();
    expect(() => g.count({ name: 'a b' })).toThrow(
      invalid(
        `${w}.count() after source-0: name must be a non-empty string of letters, digits, '.', '_' or '-' ` +
          `(names may become part of internal topic names); got "a b"`,
      ),
    );
  });

  it("emit must be 'update' or 'final'", () => {
    const { g } = grouped();
    expect(() => g.windowedBy(tumbling(10)).count({ emit: 'sometimes' as never })).toThrow(
      invalid(`${w}.count() after source-0: emit must be 'update' or 'final', got "sometimes"`),
    );
    expect(() => g.windowedBy(tumbling(10)).aggregate(() => 0, (n) => n, { emit: 1 as never })).toThrow(
      invalid(`${w}.aggregate() after source-0: emit must be 'update' or 'final', got 1`),
    );
  });

  it('windowedBy wants windows and a timestamp function', () => {
    const { g } = grouped();
    expect(() => g.windowedBy(5 as never)).toThrow(
      invalid(`${w}.windowedBy() after source-0: windows (tumbling(ms), hopping(ms, ms), session(ms) or sliding(ms)) must be an object; got 5`),
    );
    expect(() => g.windowedBy(tumbling(10), { timestamp: 5 as never })).toThrow(
      invalid(`${w}.windowedBy() after source-0: options.timestamp must be a function; got 5`),
    );
  });

  it('aggregate over sessions wants merge, with or without options', () => {
    const { g } = grouped();
    const message = `${w}.aggregate() after source-0: session windows need { merge: (a, b) => … } to combine sessions a record bridges`;
    expect(() => g.windowedBy(session(10)).aggregate(() => 0, (n) => n + 1)).toThrow(invalid(message));
    expect(() => g.windowedBy(session(10)).aggregate(() => 0, (n) => n + 1, { name: 's' })).toThrow(invalid(message));
    // Time windows need none.
    expect(() => g.windowedBy(tumbling(10)).aggregate(() => 0, (n) => n + 1)).not.toThrow();
  });

  it('messages name the node the grouping follows', () => {
    const app = topology('app');
    const g = app.stream('in', text).filter(() => true).groupByKey();
    expect(() => g.reduce(1 as never)).toThrow(invalid('groupByKey().reduce() after filter-1: the callback must be a function; got 1'));
  });
});
