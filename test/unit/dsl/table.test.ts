import { describe, expect, it } from 'vitest';
import { graphOf, topology } from '../../../lib/dsl/topology.ts';
import type { GraphNode, TableJoinNode } from '../../../lib/graph/nodes.ts';
import { subtopologies } from '../../../lib/graph/subtopologies.ts';
import { serdes } from '../../../lib/serde/builtin.ts';

const text = { key: serdes.string, value: serdes.string };
const invalid = (message: string) => expect.objectContaining({ name: 'StreamrunError', code: 'INVALID_TOPOLOGY', message });
const node = (nodes: readonly GraphNode[], name: string) => nodes.find((n) => n.name === name)!;

describe('joins of two tables', () => {
  it("appends a side node under each table's changes and a merge node with the join's name", () => {
    const t = topology('app');
    const users = t.table('users', text, { name: 'users' });
    const visits = t.stream('visits', text).groupByKey().count({ name: 'visits' });
    const joiner = (u: string, n: number | null) => `${u}:${n}`;
    users.leftJoin(visits, joiner, { name: 'profiles', value: serdes.string }).toStream().to('out');
    const nodes = graphOf(t).nodes;
    const side = {
      kind: 'tableJoin',
      join: 'left',
      store: 'profiles',
      named: true,
      times: 'profiles-times',
      tables: { left: { store: 'users' }, right: { store: 'visits' } },
      joiner,
      serdes: { key: serdes.string, value: serdes.string },
    };
    // A topic table's changes come from its source (deletes too), an aggregate's from itself.
    expect(node(nodes, 'profiles-left')).toEqual({ ...side, name: 'profiles-left', parents: ['users-source'], side: 'left' });
    expect(node(nodes, 'profiles-right')).toEqual({ ...side, name: 'profiles-right', parents: ['visits'], side: 'right' });
    expect(node(nodes, 'profiles')).toEqual({ kind: 'merge', name: 'profiles', parents: ['profiles-left', 'profiles-right'] });
    expect(nodes.at(-1)).toMatchObject({ kind: 'sink', parents: ['profiles'], serdes: { key: serdes.string, value: serdes.string } });
    expect(subtopologies(graphOf(t)).map((s) => s.sourceTopics)).toEqual([['users', 'visits']]);
  });

  it('makes a table that joins again, keeps its store and is complete without a sink (the store can be queried)', () => {
    const t = topology('app');
    const a = t.table('a', text, { name: 'a' });
    const b = t.table('b', text, { name: 'b' });
    const c = t.table('c', text, { name: 'c' });
    const ab = a.join(b, (x, y) => x + y);
    expect(ab.store).toBe('tableJoin-3');
    ab.outerJoin(c, (x, y) => `${x}${y}`, { name: 'abc' });
    const nodes = graphOf(t).nodes;
    expect(node(nodes, 'abc-left')).toMatchObject({ parents: ['tableJoin-3'], join: 'outer', tables: { left: { store: 'tableJoin-3' } } });
    expect(node(nodes, 'tableJoin-3-left') as TableJoinNode).toMatchObject({ named: false, serdes: { value: serdes.json() } });
  });

  it('rejects a table of another topology, a joiner that is not a function and options that are not an object', () => {
    const t = topology('app');
    const a = t.table('a', text, { name: 'a' });
    const foreign = topology('other').table('b', text, { name: 'b' });
    expect(() => a.join(foreign, (x, y) => x + y)).toThrow(invalid('join() of table a: expected a table of topology "app"; got an object'));
    expect(() => a.leftJoin({} as never, (x) => x)).toThrow(invalid('leftJoin() of table a: expected a table of topology "app"; got an object'));
    const b = t.table('b', text, { name: 'b' });
    expect(() => a.outerJoin(b, 3 as never)).toThrow(invalid('outerJoin() of table a: the joiner must be a function; got 3'));
    expect(() => a.join(b, (x, y) => x + y, 'x' as never)).toThrow(invalid('join() of table a: options must be an object; got "x"'));
  });
});
