import { describe, expect, it } from 'vitest';
import type { Stream } from '../../../lib/dsl/stream.ts';
import { graphOf, topology, type Topology } from '../../../lib/dsl/topology.ts';
import type { SinkNode } from '../../../lib/graph/nodes.ts';
import { serdes } from '../../../lib/serde/builtin.ts';
import type { Serde } from '../../../lib/serde/serde.ts';

const keySerde: Serde<string> = { name: 'key', serialize: (s) => Buffer.from(s), deserialize: (b) => b.toString() };
const valueSerde: Serde<string> = { name: 'value', serialize: (s) => Buffer.from(s), deserialize: (b) => b.toString() };

/** The serde names the single sink of the topology was given. */
function sinkSerdes(write: (input: Stream<string | null, string>) => Topology): { key: string; value: string } {
  const t = topology('app');
  write(t.stream('in', { key: keySerde, value: valueSerde }));
  const sink = graphOf(t).nodes.find((n): n is SinkNode => n.kind === 'sink');
  if (sink === undefined) throw new Error('no sink');
  return { key: sink.serdes.key.name, value: sink.serdes.value.name };
}

describe('serdes a sink inherits', () => {
  it.each([
    ['the source', (s: Stream<string | null, string>) => s.to('out'), { key: 'key', value: 'value' }],
    ['filter', (s: Stream<string | null, string>) => s.filter(() => true).to('out'), { key: 'key', value: 'value' }],
    ['peek', (s: Stream<string | null, string>) => s.peek(() => {}).to('out'), { key: 'key', value: 'value' }],
    ['a branch', (s: Stream<string | null, string>) => s.branch({ a: () => true }).a.to('out'), { key: 'key', value: 'value' }],
    ['mapValues', (s: Stream<string | null, string>) => s.mapValues((v) => v).to('out'), { key: 'key', value: 'auto' }],
    ['flatMapValues', (s: Stream<string | null, string>) => s.flatMapValues((v) => [v]).to('out'), { key: 'key', value: 'auto' }],
    ['map', (s: Stream<string | null, string>) => s.map((v, k) => ({ key: k, value: v })).to('out'), { key: 'auto', value: 'auto' }],
    ['flatMap', (s: Stream<string | null, string>) => s.flatMap((v, k) => [{ key: k, value: v }]).to('out'), { key: 'auto', value: 'auto' }],
    [
      'mapValues, then filter',
      (s: Stream<string | null, string>) => s.mapValues((v) => v).filter(() => true).to('out'),
      { key: 'key', value: 'auto' },
    ],
  ])('after %s', (_, write, expected) => {
    expect(sinkSerdes(write)).toEqual(expected);
  });

  it('prefers the serdes given to to()', () => {
    expect(sinkSerdes((s) => s.to('out', { key: serdes.string, value: serdes.json<string>() }))).toEqual({
      key: 'string',
      value: 'json',
    });
    expect(sinkSerdes((s) => s.map((v) => ({ key: v, value: v })).to('out', { value: serdes.string }))).toEqual({
      key: 'auto',
      value: 'string',
    });
    expect(sinkSerdes((s) => s.to('out', { key: serdes.string }))).toEqual({ key: 'string', value: 'value' });
  });

  it('stores the serde objects themselves', () => {
    const t = topology('app');
    t.stream('in', { key: keySerde, value: valueSerde }).map((v) => ({ key: v, value: v })).to('out');
    const sink = graphOf(t).nodes.at(-1) as SinkNode;
    expect(sink.serdes.key).toBe(serdes.auto);
    expect(sink.serdes.value).toBe(serdes.auto);
  });

  it('rejects a given serde that is not one', () => {
    const input = topology('app').stream('in', { key: keySerde, value: valueSerde });
    expect(() => input.to('out', { value: 'json' as never })).toThrow(
      expect.objectContaining({
        code: 'INVALID_TOPOLOGY',
        message:
          'to("out") after source-0: serdes.value must be a Serde (an object with name, serialize and ' +
          'deserialize); got "json"',
      }),
    );
    expect(() => input.to('out', 'json' as never)).toThrow('to("out") after source-0: serdes must be an object; got "json"');
  });

  it('rejects a bad sink topic', () => {
    const input = topology('app').stream('in', { key: keySerde, value: valueSerde });
    expect(() => input.to('bad topic')).toThrow(/^to\("bad topic"\) after source-0: topic must be/);
  });
});

describe('serdes after merge', () => {
  const other: Serde<string> = { ...valueSerde, name: 'other' };

  function merged(bSerdes: { key: Serde<string>; value: Serde<string> }, mapB = false) {
    const t = topology('app');
    const a = t.stream('a', { key: keySerde, value: valueSerde });
    const b = t.stream('b', bSerdes);
    a.merge(mapB ? b.mapValues((v) => v) : b).to('out');
    const sink = graphOf(t).nodes.at(-1) as SinkNode;
    return { key: sink.serdes.key.name, value: sink.serdes.value.name };
  }

  it('keeps a serde every merged stream has', () => {
    expect(merged({ key: keySerde, value: valueSerde })).toEqual({ key: 'key', value: 'value' });
  });

  it('drops a serde the streams disagree on', () => {
    expect(merged({ key: keySerde, value: other })).toEqual({ key: 'key', value: 'auto' });
    expect(merged({ key: other, value: valueSerde })).toEqual({ key: 'auto', value: 'value' });
  });

  it('drops a serde one stream no longer knows', () => {
    expect(merged({ key: keySerde, value: valueSerde }, true)).toEqual({ key: 'key', value: 'auto' });
  });

  it('agrees on serdes.json() called twice', () => {
    const t = topology('app');
    const a = t.stream('a', { key: serdes.string, value: serdes.json<{ n: number }>() });
    const b = t.stream('b', { key: serdes.string, value: serdes.json<{ n: number }>() });
    a.merge(b).to('out');
    expect((graphOf(t).nodes.at(-1) as SinkNode).serdes.value.name).toBe('json');
  });
});
