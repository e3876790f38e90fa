import { describe, expect, it } from 'vitest';
import { graphOf, topology } from '../../../lib/dsl/topology.ts';
import type { BranchNode, GraphNode, SinkNode, SourceNode } from '../../../lib/graph/nodes.ts';
import { serdes } from '../../../lib/serde/builtin.ts';

const text = { key: serdes.string, value: serdes.string };

function named(nodes: readonly GraphNode[], name: string): GraphNode {
  const found = nodes.find((n) => n.name === name);
  if (found === undefined) throw new Error(`no node ${name}`);
  return found;
}

describe('a node\'s error policy ({ errors })', () => {
  it('goes on the operator\'s own node', () => {
    const t = topology('app');
    t.stream('in', text).mapValues((v) => v, { name: 'price', errors: { retries: 0, deadLetterTopic: 'unpriced' } }).to('out');
    expect(named(graphOf(t).nodes, 'price').errors).toEqual({ retries: 0, deadLetterTopic: 'unpriced' });
  });

  it('works with a generated name too', () => {
    const t = topology('app');
    t.stream('in', text).filter(() => true, { errors: { onExhausted: 'skip' } }).to('out');
    expect(named(graphOf(t).nodes, 'filter-1').errors).toEqual({ onExhausted: 'skip' });
  });

  it('is not copied to the nodes an operator derives from its own (branch outputs, a table\'s source)', () => {
    const t = topology('app');
    const users = t.table('users', text, { name: 'users', errors: { retries: 1 } });
    const { a } = t.stream('in', text).branch({ a: () => true }, { name: 'route', errors: { retries: 2 } });
    a.join(users, (v) => v).to('out');
    const nodes = graphOf(t).nodes;
    expect(named(nodes, 'users').errors).toEqual({ retries: 1 });
    expect('errors' in named(nodes, 'users-source')).toBe(false);
    expect(named(nodes, 'route').errors).toEqual({ retries: 2 });
    expect('errors' in named(nodes, 'route-a')).toBe(false);
  });

  it('is absent when not given', () => {
    const t = topology('app');
    t.stream('in', text).peek(() => {}, { name: 'p' });
    expect(graphOf(t).nodes.map((n) => 'errors' in n)).toEqual([false, false]);
  });
});

describe('one source per topic', () => {
  it('a topic a sink writes can be read back by a source, and a source\'s topic can be written to', () => {
    const t = topology('app');
    const back = t.stream('rekeyed', text, { name: 'read-back' });
    t.stream('in', text).map((v) => ({ key: v, value: v })).to('rekeyed');
    back.to('in');
    t.stream('out', text).peek(() => {});
    t.stream('elsewhere', text).to('out');
    expect(graphOf(t).nodes.filter((n) => n.kind === 'source').map((n) => (n as SourceNode).topic)).toEqual(['rekeyed', 'in', 'out', 'elsewhere']);
  });

  it('a second source of a topic is refused, with the node it would have been', () => {
    const t = topology('app');
    t.table('users', text, { name: 'users' });
    expect(() => t.stream('users', text)).toThrow(
      expect.objectContaining({
        code: 'INVALID_TOPOLOGY',
        message:
          'stream("users"): topic "users" is already read by users-source; a topic can have one source per topology, ' +
          'so reuse that stream (branch or peek it as needed)',
        context: { node: 'source-1' },
      }),
    );
  });
});

describe('the nodes are frozen, the user\'s serdes and functions are not', () => {
  it('branch predicates, each predicate entry, source and sink serdes', () => {
    const t = topology('app');
    const fn = () => true;
    t.stream('in', text).branch({ a: fn, b: fn }).a.to('out');
    const nodes = graphOf(t).nodes;
    const branch = named(nodes, 'branch-1') as BranchNode;
    expect(Object.isFrozen(branch)).toBe(true);
    expect(Object.isFrozen(branch.predicates)).toBe(true);
    expect(branch.predicates.every((p) => Object.isFrozen(p))).toBe(true);
    expect(Object.isFrozen(fn)).toBe(false);
    const source = named(nodes, 'source-0') as SourceNode;
    const sink = named(nodes, 'sink-2') as SinkNode;
    expect(Object.isFrozen(source.serdes)).toBe(true);
    expect(Object.isFrozen(sink.serdes)).toBe(true);
    expect(Object.isFrozen(sink.parents)).toBe(true);
  });

  it('a custom serde object stays the user\'s', () => {
    const custom = { name: 'custom', serialize: (s: string) => Buffer.from(s), deserialize: (b: Buffer) => b.toString() };
    const t = topology('app');
    t.stream('in', { key: custom, value: custom }).to('out');
    expect((graphOf(t).nodes[0] as SourceNode).serdes.key).toBe(custom);
    expect(Object.isFrozen(custom)).toBe(false);
  });
});
