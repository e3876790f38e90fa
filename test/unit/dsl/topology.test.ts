import { describe, expect, it } from 'vitest';
import { graphOf, isTopology, topology } from '../../../lib/dsl/topology.ts';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';
import { serdes } from '../../../lib/serde/builtin.ts';

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
