import { describe, expect, it } from 'vitest';
import { graphOf, isTopology, topology } from '../../../lib/dsl/topology.ts';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';
import { serdes } from '../../../lib/serde/builtin.ts';
import { session, tumbling } from '../../../lib/dsl/windows.ts';

const text = { key: serdes.string, value: serdes.string };

describe('topology(appId)', () => {
  it('keeps the app id', () => {
    expect(topology('orders.v2_eu-1').appId).toBe('orders.v2_eu-1');
  });

  it.each([
    ['', '""'],
    ['my app', '"my app"'],
    ['a/b', '"a/b"'],
    [undefined, 'undefined'],
    [42, '42'],
  ])('rejects %j with INVALID_TOPOLOGY', (appId, shown) => {
    expect(() => topology(appId as string)).toThrow(
      expect.objectContaining({
        name: 'StreamrunError',
        code: 'INVALID_TOPOLOGY',
        message:
          "topology(appId): appId must be a non-empty string of letters, digits, '.', '_' or '-' " +
          `(it becomes the consumer group id and the prefix of internal topic names); got ${shown}`,
      }),
    );
  });

  it('rejects app ids longer than 249 characters', () => {
    expect(() => topology('a'.repeat(250))).toThrow(
      'topology(appId): appId is 250 characters long; at most 249 are allowed',
    );
    expect(topology('a'.repeat(249)).appId).toHaveLength(249);
  });
});

describe('topology.stream()', () => {
  it('adds a source node with the topic and serdes', () => {
    const t = topology('app');
    t.stream('input', text).to('output');
    expect(graphOf(t).nodes[0]).toEqual({
      kind: 'source',
      name: 'source-0',
      parents: [],
      topic: 'input',
      serdes: { key: serdes.string, value: serdes.string },
    });
  });

  it.each(['', 'with space', 'a'.repeat(250), '.', '..', 'ü'])('rejects topic %j', (topic) => {
    expect(() => topology('app').stream(topic, text)).toThrow(
      expect.objectContaining({ code: 'INVALID_TOPOLOGY', message: expect.stringMatching(/topic/) }),
    );
  });

  it('explains a bad topic name', () => {
    expect(() => topology('app').stream('my topic', text)).toThrow(
      `stream("my topic"): topic must be a non-empty string of letters, digits, '.', '_' or '-' ` +
        '(Kafka allows nothing else in topic names); got "my topic"',
    );
    expect(() => topology('app').stream('..', text)).toThrow(
      'stream(".."): topic cannot be ".." (Kafka forbids it)',
    );
  });

  it('rejects a topic that already has a source', () => {
    const t = topology('app');
    t.stream('input', text);
    expect(() => t.stream('input', text, { name: 'again' })).toThrow(
      'stream("input"): topic "input" is already read by source-0; a topic can have one source ' +
        'per topology, so reuse that stream (branch or peek it as needed)',
    );
  });

  it('rejects missing or malformed serdes', () => {
    const t = topology('app');
    // @ts-expect-error JavaScript users can forget the serdes
    expect(() => t.stream('input')).toThrow('stream("input"): serdes ({ key, value }) must be an object; got undefined');
    // @ts-expect-error or give half a serde
    expect(() => t.stream('input', { key: serdes.string, value: { name: 'x' } })).toThrow(
      'stream("input"): serdes.value must be a Serde (an object with name, serialize and deserialize); got an object',
    );
  });

  it('takes a name', () => {
    const t = topology('app');
    t.stream('input', text, { name: 'orders-in' }).to('out');
    expect(graphOf(t).nodes.map((n) => n.name)).toEqual(['orders-in', 'sink-1']);
  });
});

describe('isTopology()', () => {
  it('recognises topologies', () => {
    expect(isTopology(topology('app'))).toBe(true);
  });

  it.each([null, undefined, {}, 'app', { appId: 'app', stream() {}, describe() {} }])(
    'rejects %j',
    (x) => {
      expect(isTopology(x)).toBe(false);
    },
  );

  it('recognises a topology of another copy of the library by its global symbol', () => {
    const foreign = { [Symbol.for('streamrun.topology')]: () => ({ appId: 'x', nodes: [] }) };
    expect(isTopology(foreign)).toBe(true);
  });
});

describe('graphOf()', () => {
  it('returns the frozen graph in build order', () => {
    const t = topology('app');
    t.stream('input', text).mapValues((v) => v.length).to('output');
    const graph = graphOf(t);
    expect(graph.appId).toBe('app');
    expect(graph.nodes.map((n) => `${n.kind}:${n.name}<-${n.parents.join(',')}`)).toEqual([
      'source:source-0<-',
      'mapValues:mapValues-1<-source-0',
      'sink:sink-2<-mapValues-1',
    ]);
    expect(Object.isFrozen(graph.nodes)).toBe(true);
    expect(Object.isFrozen(graph.nodes[1])).toBe(true);
    expect(Object.isFrozen(graph.nodes[1]?.parents)).toBe(true);
  });

  it('is a snapshot: later operators do not change it', () => {
    const t = topology('app');
    const input = t.stream('input', text);
    input.to('a');
    const before = graphOf(t);
    input.to('b');
    expect(before.nodes).toHaveLength(2);
    expect(graphOf(t).nodes).toHaveLength(3);
  });

  it('rejects a topology without a source', () => {
    expect(() => graphOf(topology('empty'))).toThrow(
      expect.objectContaining({
        code: 'INVALID_TOPOLOGY',
        message: 'topology "empty" has no source; read a topic with .stream(topic, serdes)',
      }),
    );
  });

  it('rejects a sub-topology whose records go nowhere', () => {
    const t = topology('app');
    t.stream('a', text).to('out');
    t.stream('b', text).mapValues((v) => v);
    expect(() => graphOf(t)).toThrow(
      'topology "app": the records of "b" go nowhere (sub-topology 1 has no sink and no peek); ' +
        'end the stream with .to(topic), .sink(sink) or .peek(fn)',
    );
  });

  it('accepts a peek-only topology and streams that end without a sink', () => {
    const t = topology('app');
    const input = t.stream('a', text);
    input.peek(() => {});
    input.filter(() => true); // dangling, but its sub-topology has an effect
    expect(graphOf(t).nodes).toHaveLength(3);
  });

  it('rejects what is not a topology', () => {
    expect(() => graphOf({} as never)).toThrow(
      new StreamrunError('INVALID_TOPOLOGY', 'expected a topology made by topology(appId); got an object'),
    );
  });

  it('reads the graph of a topology made by another copy of the library', () => {
    const t = topology('app');
    t.stream('input', text).to('output');
    const foreign = { [Symbol.for('streamrun.topology')]: () => graphOf(t) };
    expect(graphOf(foreign as never).nodes).toHaveLength(2);
  });
});

describe('stream.to()', () => {
  it('returns the topology, so a chain can be exported', () => {
    const t = topology('app');
    const returned = t.stream('input', text).to('output');
    expect(returned).toBe(t);
  });
});

const invalid = (message: string) => expect.objectContaining({ name: 'StreamrunError', code: 'INVALID_TOPOLOGY', message });
const legal = "must be a non-empty string of letters, digits, '.', '_' or '-'";

describe('how bad arguments are shown in messages', () => {
  it.each([
    [null, 'null'],
    [() => 'app', 'a function'],
    [['app'], 'an array'],
    [{ id: 'app' }, 'an object'],
    [true, 'true'],
  ])('%j as %s', (appId, shown) => {
    expect(() => topology(appId as never)).toThrow(
      invalid(`topology(appId): appId ${legal} (it becomes the consumer group id and the prefix of internal topic names); got ${shown}`),
    );
  });

  it('a bad topic in the operator\'s name too', () => {
    expect(() => topology('app').stream(['in'] as never, text)).toThrow(
      invalid(`stream(an array): topic ${legal} (Kafka allows nothing else in topic names); got an array`),
    );
  });

  it('errors about no particular node carry an empty context', () => {
    try {
      topology('bad id');
      expect.unreachable();
    } catch (error) {
      expect((error as StreamrunError).context).toStrictEqual({});
    }
  });
});

describe('node names', () => {
  it('explains an illegal name, and a name that is too long', () => {
    const input = topology('app').stream('in', text);
    expect(() => input.peek(() => {}, { name: 'has space' })).toThrow(
      invalid(`peek() after source-0: name ${legal} (names may become part of internal topic names); got "has space"`),
    );
    expect(() => input.peek(() => {}, { name: 'a'.repeat(250) })).toThrow(
      invalid('peek() after source-0: name is 250 characters long; at most 249 are allowed'),
    );
    input.peek(() => {}, { name: 'a'.repeat(249) });
  });

  it('rejects options that are null', () => {
    const input = topology('app').stream('in', text);
    expect(() => input.peek(() => {}, null as never)).toThrow(
      invalid("peek() after source-0: options must be an object like { name: 'my-node' }; got null"),
    );
  });
});

describe('serdes given to stream() and table()', () => {
  const ok = { name: 'x', serialize: () => Buffer.alloc(0), deserialize: () => 'x' };
  function serdeLike(): { name: string; serialize?: unknown; deserialize?: unknown } {
    // A function with the right properties is still not an object.
    return Object.assign(function x() {}, { serialize: ok.serialize, deserialize: ok.deserialize });
  }

  it.each([
    ['null', null, 'null'],
    ['a string', 'json', '"json"'],
    ['a function with serde properties', serdeLike(), 'a function'],
    ['a name that is not a string', { ...ok, name: 1 }, 'an object'],
    ['no serialize', { name: 'x', deserialize: ok.deserialize }, 'an object'],
    ['no deserialize', { name: 'x', serialize: ok.serialize }, 'an object'],
    ['a serialize that is not a function', { ...ok, serialize: 'yes' }, 'an object'],
  ])('rejects a value serde that is %s', (_, value, shown) => {
    expect(() => topology('app').stream('in', { key: serdes.string, value: value as never })).toThrow(
      invalid(`stream("in"): serdes.value must be a Serde (an object with name, serialize and deserialize); got ${shown}`),
    );
  });

  it('names the key serde when it is the bad one', () => {
    expect(() => topology('app').stream('in', { key: 'string' as never, value: serdes.string })).toThrow(
      invalid('stream("in"): serdes.key must be a Serde (an object with name, serialize and deserialize); got "string"'),
    );
  });

  it('accepts any object with name, serialize and deserialize', () => {
    const t = topology('app');
    t.stream('in', { key: ok, value: ok }).to('out');
    expect(graphOf(t).nodes[0]).toMatchObject({ serdes: { key: ok, value: ok } });
  });

  it('rejects serdes that are null', () => {
    expect(() => topology('app').stream('in', null as never)).toThrow(
      invalid('stream("in"): serdes ({ key, value }) must be an object; got null'),
    );
  });
});

describe('topology.table()', () => {
  it('adds a source that passes tombstones on and a materialize node keeping the store', () => {
    const t = topology('app');
    const users = t.table('users', text, { name: 'users' });
    expect(users.store).toBe('users');
    expect(graphOf(t).nodes).toEqual([
      { kind: 'source', name: 'users-source', parents: [], topic: 'users', serdes: text, tombstones: true },
      { kind: 'materialize', name: 'users', parents: ['users-source'], store: 'users', named: true, topic: 'users', serdes: text },
    ]);
  });

  it('without a name: materialize-<n>, marked unnamed', () => {
    const t = topology('app');
    t.stream('other', text).to('out');
    expect(t.table('users', text).store).toBe('materialize-2');
    expect(graphOf(t).nodes.slice(2).map((n) => [n.kind, n.name, 'named' in n ? n.named : '-'])).toEqual([
      ['source', 'materialize-2-source', '-'],
      ['materialize', 'materialize-2', false],
    ]);
  });

  it('its stream keeps the table\'s serdes', () => {
    const t = topology('app');
    const json = { key: serdes.string, value: serdes.json<{ n: number }>() };
    t.table('users', json, { name: 'users' }).toStream().to('copy');
    expect(graphOf(t).nodes.at(-1)).toMatchObject({ kind: 'sink', parents: ['users'], serdes: json });
  });

  it('checks its topic, serdes and name, naming table() in the message', () => {
    const t = topology('app');
    expect(() => t.table('bad topic', text)).toThrow(invalid(`table("bad topic"): topic ${legal} (Kafka allows nothing else in topic names); got "bad topic"`));
    expect(() => t.table('users', null as never)).toThrow(invalid('table("users"): serdes ({ key, value }) must be an object; got null'));
    expect(() => t.table('users', { key: serdes.string, value: 1 as never })).toThrow(
      invalid('table("users"): serdes.value must be a Serde (an object with name, serialize and deserialize); got 1'),
    );
    expect(() => t.table('users', text, { name: '' })).toThrow(invalid(`table("users"): name ${legal} (names may become part of internal topic names); got ""`));
  });
});

describe('graphOf(): what counts as an end', () => {
  it.each([
    ['a topic sink', (t: ReturnType<typeof topology>) => t.stream('in', text).to('out')],
    ['an external sink', (t: ReturnType<typeof topology>) => t.stream('in', text).sink({ name: 'db', write: async () => {} })],
    ['a peek', (t: ReturnType<typeof topology>) => t.stream('in', text).peek(() => {})],
    ['an aggregate store', (t: ReturnType<typeof topology>) => t.stream('in', text).groupByKey().count({ name: 'n' })],
    ['a windowed store', (t: ReturnType<typeof topology>) => t.stream('in', text).groupByKey().windowedBy(tumbling(10)).count({ name: 'w' })],
    ['a session store', (t: ReturnType<typeof topology>) => t.stream('in', text).groupByKey().windowedBy(session(10)).count({ name: 's' })],
    ['a table', (t: ReturnType<typeof topology>) => t.table('users', text, { name: 'users' })],
  ])('%s', (_, build) => {
    const t = topology('app');
    build(t);
    expect(graphOf(t).nodes.length).toBeGreaterThan(1);
  });

  it('a source alone goes nowhere', () => {
    const t = topology('app');
    t.stream('in', text);
    expect(() => graphOf(t)).toThrow(
      invalid(
        'topology "app": the records of "in" go nowhere (sub-topology 0 has no sink and no peek); ' +
          'end the stream with .to(topic), .sink(sink) or .peek(fn)',
      ),
    );
  });

  it('names every source topic of a sub-topology that goes nowhere', () => {
    const t = topology('app');
    t.stream('a', text).merge(t.stream('b', text)).filter(() => true);
    expect(() => graphOf(t)).toThrow(/^topology "app": the records of "a", "b" go nowhere \(sub-topology 0 /);
  });

  it('a graph without a source is refused even when it has an end', () => {
    const foreign = { [Symbol.for('streamrun.topology')]: () => ({ appId: 'x', nodes: [{ kind: 'peek', name: 'p', parents: [], fn: () => {} }] }) };
    expect(() => graphOf(foreign as never)).toThrow(invalid('topology "x" has no source; read a topic with .stream(topic, serdes)'));
  });
});
