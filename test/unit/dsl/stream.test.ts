import { describe, expect, it } from 'vitest';
import { graphOf, topology } from '../../../lib/dsl/topology.ts';
import type { BranchNode, GraphNode, RecordContext } from '../../../lib/graph/nodes.ts';
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
