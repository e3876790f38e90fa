import { describe, expect, it } from 'vitest';
import type { Stream } from '../../../lib/dsl/stream.ts';
import type { Table } from '../../../lib/dsl/table.ts';
import { graphOf, topology } from '../../../lib/dsl/topology.ts';
import type { AggregateNode, BranchNode, GraphNode, RecordContext, StreamJoinNode } from '../../../lib/graph/nodes.ts';
import { subtopologies } from '../../../lib/graph/subtopologies.ts';
import { joinWindows, tumbling } from '../../../lib/dsl/windows.ts';
import { serdes } from '../../../lib/serde/builtin.ts';

const text = { key: serdes.string, value: serdes.string };
const context: RecordContext = { topic: 't', partition: 0, offset: '0', timestamp: 0, headers: {} };

function built(build: (t: ReturnType<typeof topology>) => void): GraphNode[] {
  const t = topology('app');
  build(t);
  return [...graphOf(t).nodes];
}

function node(nodes: GraphNode[], name: string): GraphNode {
  const found = nodes.find((n) => n.name === name);
  if (found === undefined) throw new Error(`no node ${name} in ${nodes.map((n) => n.name).join(', ')}`);
  return found;
}

describe('operators', () => {
  it('each appends one node after its parent and stores the callback', () => {
    const up = (v: string) => v.toUpperCase();
    const nodes = built((t) =>
      t
        .stream('in', text)
        .map((v, k) => ({ key: k, value: v }))
        .mapValues(up)
        .filter((v) => v !== '')
        .flatMap((v, k) => [{ key: k, value: v }])
        .flatMapValues((v) => [v, v])
        .peek(() => {})
        .to('out'),
    );
    expect(nodes.map((n) => [n.kind, n.name, n.parents])).toEqual([
      ['source', 'source-0', []],
      ['map', 'map-1', ['source-0']],
      ['mapValues', 'mapValues-2', ['map-1']],
      ['filter', 'filter-3', ['mapValues-2']],
      ['flatMap', 'flatMap-4', ['filter-3']],
      ['flatMapValues', 'flatMapValues-5', ['flatMap-4']],
      ['peek', 'peek-6', ['flatMapValues-5']],
      ['sink', 'sink-7', ['peek-6']],
    ]);
    const mapValues = node(nodes, 'mapValues-2');
    expect(mapValues.kind === 'mapValues' && mapValues.fn).toBe(up);
  });

  it('returns a new stream per call and leaves the old one usable (fan-out)', () => {
    const nodes = built((t) => {
      const input = t.stream('in', text);
      const upper = input.mapValues((v) => v.toUpperCase());
      expect(upper).not.toBe(input);
      input.to('raw');
      upper.to('upper');
    });
    expect(node(nodes, 'sink-2').parents).toEqual(['source-0']);
    expect(node(nodes, 'sink-3').parents).toEqual(['mapValues-1']);
  });

  it('passes value, key and context to callbacks in that order', () => {
    const seen: unknown[] = [];
    const nodes = built((t) =>
      t
        .stream('in', text)
        .peek((v, k, c) => seen.push(v, k, c.topic))
        .to('out'),
    );
    const peek = node(nodes, 'peek-1');
    if (peek.kind !== 'peek') throw new Error('not a peek');
    peek.fn('v', 'k', context);
    expect(seen).toEqual(['v', 'k', 't']);
  });

  it.each(['map', 'mapValues', 'filter', 'flatMap', 'flatMapValues', 'peek'] as const)(
    '%s rejects a callback that is not a function',
    (op) => {
      const input = topology('app').stream('in', text);
      const call = input[op] as (fn: unknown) => unknown;
      expect(() => call.call(input, 'nope')).toThrow(
        expect.objectContaining({
          code: 'INVALID_TOPOLOGY',
          message: `${op}() after source-0: the callback must be a function; got "nope"`,
        }),
      );
    },
  );
});

describe('naming', () => {
  it('numbers every operator call, named or not, so naming one node renames no other', () => {
    const nodes = built((t) =>
      t
        .stream('in', text)
        .mapValues((v) => v, { name: 'trim' })
        .filter(() => true)
        .to('out'),
    );
    expect(nodes.map((n) => n.name)).toEqual(['source-0', 'trim', 'filter-2', 'sink-3']);
  });

  it('counts per topology', () => {
    const a = topology('a');
    const b = topology('b');
    a.stream('x', text).to('y');
    b.stream('x', text).to('y');
    expect(graphOf(b).nodes.map((n) => n.name)).toEqual(['source-0', 'sink-1']);
  });

  it('names sinks with { name }', () => {
    const nodes = built((t) => t.stream('in', text).to('out', undefined, { name: 'write-out' }));
    expect(node(nodes, 'write-out').kind).toBe('sink');
  });

  it('rejects a duplicate name and adds nothing', () => {
    const t = topology('app');
    const input = t.stream('in', text);
    input.mapValues((v) => v, { name: 'step' }).to('out');
    expect(() => input.filter(() => true, { name: 'step' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_TOPOLOGY',
        message:
          'filter() after source-0: node name "step" is already used in topology "app"; ' +
          'node names must be unique, so pass this operator a different { name }',
        context: { node: 'step' },
      }),
    );
    expect(graphOf(t).nodes).toHaveLength(3);
  });

  it('rejects a user name that a generated name already took', () => {
    const t = topology('app');
    const input = t.stream('in', text);
    expect(() => input.to('out', undefined, { name: 'source-0' })).toThrow(/"source-0" is already used/);
  });

  it.each(['', 'has space', 'a'.repeat(250), 42])('rejects the name %j', (name) => {
    const input = topology('app').stream('in', text);
    expect(() => input.peek(() => {}, { name: name as string })).toThrow(
      expect.objectContaining({ code: 'INVALID_TOPOLOGY', message: expect.stringMatching(/^peek\(\) after source-0: name /) }),
    );
  });

  it('rejects options that are not an object', () => {
    const input = topology('app').stream('in', text);
    expect(() => input.peek(() => {}, 'name' as never)).toThrow(
      "peek() after source-0: options must be an object like { name: 'my-node' }; got \"name\"",
    );
  });
});

describe('branch()', () => {
  it('adds a branch node and one output node per predicate, in definition order', () => {
    const big = (v: string) => v.length > 3;
    const rest = () => true;
    const nodes = built((t) => {
      const { big: b, rest: r } = t.stream('in', text).branch({ big, rest });
      b.to('big');
      r.to('rest');
    });
    expect(node(nodes, 'branch-1')).toEqual({
      kind: 'branch',
      name: 'branch-1',
      parents: ['source-0'],
      predicates: [
        { branch: 'big', fn: big },
        { branch: 'rest', fn: rest },
      ],
    });
    expect(node(nodes, 'branch-1-big')).toEqual({
      kind: 'branchOutput',
      name: 'branch-1-big',
      parents: ['branch-1'],
      branch: 'big',
      index: 0,
    });
    expect(node(nodes, 'branch-1-rest')).toMatchObject({ index: 1, branch: 'rest' });
    expect(node(nodes, 'sink-2').parents).toEqual(['branch-1-big']);
    expect(node(nodes, 'sink-3').parents).toEqual(['branch-1-rest']);
  });

  it('names outputs after a named branch node', () => {
    const nodes = built((t) => t.stream('in', text).branch({ a: () => true }, { name: 'route' }).a.to('out'));
    expect(nodes.map((n) => n.name)).toEqual(['source-0', 'route', 'route-a', 'sink-2']);
  });

  it('tries integer-like names first, as JavaScript orders object keys', () => {
    const nodes = built((t) => {
      t.stream('in', text).branch({ b: () => true, 2: () => true, a: () => true, 1: () => true }).a.to('out');
    });
    const branch = node(nodes, 'branch-1') as BranchNode;
    expect(branch.predicates.map((p) => p.branch)).toEqual(['1', '2', 'b', 'a']);
  });

  it('returns a frozen object with a stream per branch, even one named __proto__', () => {
    const t = topology('app');
    const outputs = t.stream('in', text).branch({ ['__proto__']: () => true });
    expect(Object.isFrozen(outputs)).toBe(true);
    expect(Object.keys(outputs)).toEqual(['__proto__']);
    outputs['__proto__'].to('out');
    expect(graphOf(t).nodes.map((n) => n.name)).toContain('branch-1-__proto__');
  });

  it('rejects an empty predicate object', () => {
    const input = topology('app').stream('in', text);
    expect(() => input.branch({})).toThrow(
      expect.objectContaining({
        code: 'INVALID_TOPOLOGY',
        message: 'branch() after source-0: give at least one named predicate, like { big: (v) => v > 100 }',
      }),
    );
  });

  it('rejects an array, an illegal branch name and a predicate that is not a function', () => {
    const input = topology('app').stream('in', text);
    expect(() => input.branch([() => true] as never)).toThrow(/predicates must be named/);
    expect(() => input.branch({ 'a b': () => true })).toThrow(
      /branch\(\) after source-0: branch name "a b" must be a non-empty string/,
    );
    expect(() => input.branch({ a: 'yes' as never })).toThrow(
      'branch() after source-0: predicate "a" must be a function; got "yes"',
    );
  });

  it('rejects an output name that is taken, and adds none of the branch nodes', () => {
    const t = topology('app');
    const input = t.stream('in', text);
    input.peek(() => {}, { name: 'route-a' });
    expect(() => input.branch({ a: () => true }, { name: 'route' })).toThrow(/node name "route-a" is already used/);
    expect(graphOf(t).nodes.map((n) => n.name)).toEqual(['source-0', 'route-a']);
  });
});

describe('merge()', () => {
  it('adds one merge node with every stream as a parent', () => {
    const nodes = built((t) => {
      const a = t.stream('a', text);
      const b = t.stream('b', text);
      const c = b.filter(() => true);
      a.merge(b, c).to('out');
    });
    expect(node(nodes, 'merge-3')).toEqual({
      kind: 'merge',
      name: 'merge-3',
      parents: ['source-0', 'source-1', 'filter-2'],
    });
  });

  it('rejects streams of another topology', () => {
    const a = topology('one').stream('a', text);
    const b = topology('two').stream('b', text);
    expect(() => a.merge(b)).toThrow(
      expect.objectContaining({
        code: 'INVALID_TOPOLOGY',
        message: 'merge() after source-0: can only merge streams of the same topology ("one"); got a stream of "two"',
      }),
    );
  });

  it('rejects what is not a stream, nothing to merge and a stream given twice', () => {
    const t = topology('app');
    const a = t.stream('a', text);
    const b = t.stream('b', text);
    expect(() => a.merge({} as never)).toThrow(/same topology \("app"\); got an object/);
    expect(() => a.merge()).toThrow('merge() after source-0: give at least one stream to merge with');
    expect(() => a.merge(b, b)).toThrow(
      'merge() after source-0: the stream from source-1 is given twice; each record would be doubled',
    );
    expect(() => a.merge(a)).toThrow(/source-0 is given twice/);
  });
});

const invalid = (message: string) => expect.objectContaining({ name: 'StreamrunError', code: 'INVALID_TOPOLOGY', message });
const named = {
  key: { name: 'key', serialize: (s: string) => Buffer.from(s), deserialize: (b: Buffer) => b.toString() },
  value: { name: 'value', serialize: (s: string) => Buffer.from(s), deserialize: (b: Buffer) => b.toString() },
};

describe('enrich()', () => {
  it('appends an enrich node with the function, 16 calls at a time and the default breaker', () => {
    const fn = async (v: string) => v.length;
    const nodes = built((t) => t.stream('in', text).enrich(fn).to('out'));
    expect(node(nodes, 'enrich-1')).toEqual({
      kind: 'enrich',
      name: 'enrich-1',
      parents: ['source-0'],
      fn,
      concurrency: 16,
      breaker: { failures: 3, halfOpenAfterMs: 1000 },
    });
  });

  it('takes concurrency (1 at least), breaker settings and a name', () => {
    const nodes = built((t) =>
      t.stream('in', text).enrich(async (v) => v, { name: 'lookup', concurrency: 1, breaker: { failures: 5 } }).to('out'),
    );
    expect(node(nodes, 'lookup')).toMatchObject({ concurrency: 1, breaker: { failures: 5, halfOpenAfterMs: 1000 } });
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects concurrency %s', (concurrency) => {
    const input = topology('app').stream('in', text);
    expect(() => input.enrich(async (v) => v, { concurrency })).toThrow(
      invalid(`enrich() after source-0: concurrency must be a whole number ≥ 1, got ${concurrency}`),
    );
  });

  it('rejects a function that is not one', () => {
    const input = topology('app').stream('in', text);
    expect(() => input.enrich('x' as never)).toThrow(invalid('enrich() after source-0: the callback must be a function; got "x"'));
  });

  it('keeps the key serde and forgets the value serde', () => {
    const t = topology('app');
    t.stream('in', named).enrich(async (v) => v).to('out');
    expect(graphOf(t).nodes.at(-1)).toMatchObject({ kind: 'sink', serdes: { key: named.key, value: serdes.auto } });
  });

  it('keeps a re-key: a re-keyed, enriched stream is repartitioned before grouping', () => {
    const nodes = built((t) =>
      t.stream('in', text).map((v) => ({ key: v, value: v })).enrich(async (v) => v).groupByKey().count({ name: 'n' }),
    );
    expect(node(nodes, 'n-repartition-sink').parents).toEqual(['enrich-2']);
  });
});

describe('join() and leftJoin()', () => {
  function withTable(build: (input: Stream<string | null, string>, users: Table<string, string>) => void) {
    const t = topology('app');
    const users = t.table('users', text, { name: 'users' });
    build(t.stream('clicks', named), users);
    return [...graphOf(t).nodes];
  }

  it('appends a join node naming the table, inner or left', () => {
    const joiner = (c: string, u: string) => c + u;
    const left = (c: string, u: string | null) => c + String(u);
    const nodes = withTable((clicks, users) => {
      clicks.join(users, joiner).to('joined');
      clicks.leftJoin(users, left).to('left-joined');
    });
    expect(node(nodes, 'join-2')).toEqual({ kind: 'join', name: 'join-2', parents: ['source-1'], table: 'users', left: false, joiner });
    expect(node(nodes, 'join-4')).toEqual({ kind: 'join', name: 'join-4', parents: ['source-1'], table: 'users', left: true, joiner: left });
  });

  it('keeps the key serde and forgets the value serde', () => {
    const nodes = withTable((clicks, users) => {
      clicks.join(users, (c, u) => c + u, { name: 'j' }).to('out');
    });
    expect(nodes.at(-1)).toMatchObject({ kind: 'sink', parents: ['j'], serdes: { key: named.key, value: serdes.auto } });
  });

  it('rejects what is not a table of this topology', () => {
    const t = topology('app');
    const clicks = t.stream('clicks', text);
    const foreign = topology('other').table('users', text, { name: 'users' });
    expect(() => clicks.join({} as never, () => 1)).toThrow(invalid('join() after source-0: expected a table of topology "app"; got an object'));
    expect(() => clicks.join(foreign, () => 1)).toThrow(invalid('join() after source-0: expected a table of topology "app"; got an object'));
    expect(() => clicks.leftJoin(null as never, () => 1)).toThrow(invalid('leftJoin() after source-0: expected a table of topology "app"; got null'));
  });

  it('rejects a joiner that is not a function', () => {
    withTable((clicks, users) => {
      expect(() => clicks.join(users, 'x' as never)).toThrow(invalid('join() after source-1: the joiner must be a function; got "x"'));
      expect(() => clicks.leftJoin(users, 'x' as never)).toThrow(invalid('leftJoin() after source-1: the joiner must be a function; got "x"'));
      clicks.to('keep');
    });
  });

  it('rejects a re-keyed stream: its records are not in their key\'s partition', () => {
    const message = (op: string, after: string) =>
      `${op}() after ${after}: the stream was re-keyed (map/flatMap), so its records are not in their key's partition; ` +
      'write it to a topic with .to() and read that topic to join';
    withTable((clicks, users) => {
      const mapped = clicks.map((v, k) => ({ key: k, value: v }));
      expect(() => mapped.join(users, (c) => c)).toThrow(invalid(message('join', 'map-2')));
      const flat = clicks.flatMap((v, k) => [{ key: k, value: v }]);
      expect(() => flat.leftJoin(users, (c) => c)).toThrow(invalid(message('leftJoin', 'flatMap-3')));
      // Filtering or mapping values after a re-key does not undo it.
      expect(() => mapped.filter(() => true).join(users, (c) => c)).toThrow(/re-keyed/);
      // A stream read back from a topic is fine.
      expect(() => clicks.mapValues((v) => v).join(users, (c) => c)).not.toThrow();
      clicks.to('keep');
    });
  });
});

describe('windowed joins of two streams', () => {
  const windows = joinWindows(10).before(2).grace(5);

  it('appends a side node per stream, each with its buffer, and a merge node with the join\'s name', () => {
    const joiner = (l: string | null, r: number | null) => `${l}${r}`;
    const nodes = built((t) => {
      const orders = t.stream('orders', text);
      const payments = t.stream('payments', { key: serdes.string, value: serdes.json<number>() });
      orders.outerJoin(payments, joiner, windows, { name: 'paid' }).to('out');
    });
    const serdesOf = { key: serdes.string, left: serdes.string, right: serdes.json() };
    const stores = { left: 'paid-left', right: 'paid-right', unmatched: 'paid-unmatched' };
    const side = { kind: 'streamJoin', join: 'outer', windows: { before: 2, after: 10, grace: 5 }, late: 'drop', named: true, stores, joiner, serdes: serdesOf };
    expect(nodes.slice(2)).toEqual([
      { ...side, name: 'paid-left', parents: ['source-0'], side: 'left', store: 'paid-left' },
      { ...side, name: 'paid-right', parents: ['source-1'], side: 'right', store: 'paid-right' },
      { kind: 'merge', name: 'paid', parents: ['paid-left', 'paid-right'] },
      expect.objectContaining({ kind: 'sink', parents: ['paid'], serdes: { key: serdes.string, value: serdes.auto } }),
    ]);
  });

  it('an inner join keeps no unmatched records; generated names count as one operator call', () => {
    const nodes = built((t) => {
      const a = t.stream('a', text);
      a.join(t.stream('b', text), (l, r) => l + r, windows).to('out');
      a.leftJoin(t.stream('c', text).mapValues((v) => v.length), (l, r) => `${l}${r}`, windows).to('out2');
    });
    expect(node(nodes, 'streamJoin-2-left')).toMatchObject({ join: 'inner', named: false, stores: { unmatched: undefined } });
    expect(node(nodes, 'streamJoin-2')).toMatchObject({ kind: 'merge' });
    // The mapped values' serde is unknown: their buffer keeps them as JSON.
    expect(node(nodes, 'streamJoin-6-right')).toMatchObject({
      join: 'left',
      stores: { unmatched: 'streamJoin-6-unmatched' },
      serdes: { key: serdes.string, left: serdes.string, right: serdes.json() },
    });
  });

  it('puts both streams, and so both topics, in one sub-topology', () => {
    const t = topology('app');
    t.stream('a', text).join(t.stream('b', text), (l, r) => l + r, windows).to('out');
    expect(subtopologies(graphOf(t)).map((s) => s.sourceTopics)).toEqual([['a', 'b']]);
  });

  it('gives the error policy to both sides, where the joiner runs', () => {
    const errors = { retries: 0 };
    const nodes = built((t) => {
      t.stream('a', text).join(t.stream('b', text), (l, r) => l + r, windows, { name: 'j', errors }).to('out');
    });
    expect(['j-left', 'j-right'].map((n) => (node(nodes, n) as StreamJoinNode).errors)).toEqual([errors, errors]);
  });

  it('rejects a stream of another topology, missing windows and a re-keyed stream on either side', () => {
    const t = topology('app');
    const a = t.stream('a', text);
    const foreign = topology('other').stream('b', text);
    expect(() => a.join(foreign, (l, r) => l + r, windows)).toThrow(invalid('join() after source-0: expected a stream of topology "app"; got an object'));
    const b = t.stream('b', text);
    expect(() => a.leftJoin(b, (l, r) => l + r, undefined as never)).toThrow(
      invalid('leftJoin() after source-0: expected join windows, like joinWindows(60_000); got undefined'),
    );
    expect(() => a.outerJoin(b, (l, r) => `${l}${r}`, tumbling(10) as never)).toThrow(/outerJoin\(\) after source-0: expected join windows/);
    expect(() => a.join(b, 'x' as never, windows)).toThrow(invalid('join() after source-0: the joiner must be a function; got "x"'));
    const rekeyed = b.map((v, k) => ({ key: k, value: v }));
    expect(() => a.join(rekeyed, (l, r) => l + r, windows)).toThrow(/the stream from map-2 was re-keyed/);
    expect(() => rekeyed.join(a, (l, r) => l + r, windows)).toThrow(/the stream from map-2 was re-keyed/);
  });
});

describe('sink()', () => {
  const external = { name: 'audit service', write: async () => {} };

  it('appends an external sink node with the default breaker and returns the topology', () => {
    const t = topology('app');
    expect(t.stream('in', text).sink(external)).toBe(t);
    expect(graphOf(t).nodes[1]).toEqual({
      kind: 'externalSink',
      name: 'externalSink-1',
      parents: ['source-0'],
      sink: external,
      breaker: { failures: 3, halfOpenAfterMs: 1000 },
    });
  });

  it('takes a name, breaker settings and an error policy', () => {
    const nodes = built((t) =>
      t.stream('in', text).sink(external, { name: 'audit', breaker: { halfOpenAfterMs: 10 }, errors: { retries: 0 } }),
    );
    expect(node(nodes, 'audit')).toMatchObject({ breaker: { failures: 3, halfOpenAfterMs: 10 }, errors: { retries: 0 } });
  });

  it('rejects what is not a sink', () => {
    const input = topology('app').stream('in', text);
    expect(() => input.sink('db' as never)).toThrow(invalid('sink() after source-0: the sink must be an object; got "db"'));
    expect(() => input.sink({ name: 'x' } as never)).toThrow(invalid('sink() after source-0: sink.write must be a function; got undefined'));
  });
});

describe('groupByKey() and groupBy() arguments', () => {
  it('groupByKey wants serdes that are an object, and a key serde that is one', () => {
    const input = topology('app').stream('in', text);
    expect(() => input.groupByKey('x' as never)).toThrow(invalid('groupByKey() after source-0: serdes must be an object; got "x"'));
    expect(() => input.groupByKey({ key: 'x' as never })).toThrow(
      invalid('groupByKey() after source-0: serdes.key must be a Serde (an object with name, serialize and deserialize); got "x"'),
    );
  });

  it('groupBy wants a selector function', () => {
    const input = topology('app').stream('in', text);
    expect(() => input.groupBy('x' as never)).toThrow(invalid('groupBy() after source-0: the callback must be a function; got "x"'));
  });

  it('the key serde of a grouping: the one given, else the stream\'s, else serdes.auto', () => {
    const nodes = built((t) => {
      const input = t.stream('in', named);
      input.groupByKey().count({ name: 'inherited' });
      input.groupByKey({ key: serdes.string }).count({ name: 'given' });
      input.map((v) => ({ key: v, value: v })).groupByKey().count({ name: 'unknown' });
    });
    expect((node(nodes, 'inherited') as AggregateNode).serdes.key).toBe(named.key);
    expect((node(nodes, 'given') as AggregateNode).serdes.key).toBe(serdes.string);
    expect((node(nodes, 'unknown') as AggregateNode).serdes.key).toBe(serdes.auto);
  });

  it('flatMap re-keys: its records are repartitioned, with the value serde of the stream when it is known', () => {
    const nodes = built((t) => {
      const input = t.stream('in', named);
      input.flatMap((v, k) => [{ key: k, value: v }]).groupByKey().count({ name: 'f' });
      input.filter(() => true).groupByKey().count({ name: 'in-place' });
      input.groupBy((v) => v).count({ name: 'by-value' });
    });
    expect(node(nodes, 'f-repartition-sink')).toMatchObject({ parents: ['flatMap-1'], serdes: { key: serdes.auto, value: serdes.json() } });
    expect(node(nodes, 'in-place').parents).toEqual(['filter-3']);
    // groupBy makes new keys: their serde is unknown unless given; the values keep theirs.
    expect(node(nodes, 'by-value-repartition-sink')).toMatchObject({ serdes: { key: serdes.auto, value: named.value } });
  });
});

describe('to() arguments', () => {
  it('rejects a key serde that is not one', () => {
    const input = topology('app').stream('in', text);
    expect(() => input.to('out', { key: 'x' as never })).toThrow(
      invalid('to("out") after source-0: serdes.key must be a Serde (an object with name, serialize and deserialize); got "x"'),
    );
  });
});

describe('branch() arguments', () => {
  it('rejects predicates that are not an object', () => {
    const input = topology('app').stream('in', text);
    expect(() => input.branch(5 as never)).toThrow(invalid('branch() after source-0: predicates must be an object; got 5'));
    expect(() => input.branch(null as never)).toThrow(invalid('branch() after source-0: predicates must be an object; got null'));
    expect(() => input.branch([() => true] as never)).toThrow(
      invalid('branch() after source-0: predicates must be named, like { big: (v) => v > 100 }; got an array'),
    );
  });

  it('explains an illegal branch name', () => {
    const input = topology('app').stream('in', text);
    expect(() => input.branch({ 'a b': () => true })).toThrow(
      invalid(
        `branch() after source-0: branch name "a b" must be a non-empty string of letters, digits, '.', '_' or '-' ` +
          '(it becomes part of a node name); got "a b"',
      ),
    );
  });
});
