/*
 * Type tests for the DSL: `npx tsc --noEmit` checks them (each @ts-expect-error must be an
 * error, or tsc fails); at runtime they only build topologies.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { Stream } from '../../lib/dsl/stream.ts';
import { topology, type Topology } from '../../lib/dsl/topology.ts';
import type { RecordContext } from '../../lib/graph/nodes.ts';
import { serdes } from '../../lib/serde/builtin.ts';
import type { Serde } from '../../lib/serde/serde.ts';

interface Order {
  id: string;
  total: number;
}
interface Click {
  type: 'click';
  x: number;
}
interface View {
  type: 'view';
  page: string;
}

const number: Serde<number> = {
  name: 'number',
  serialize: (n) => Buffer.from(String(n)),
  deserialize: (b) => Number(b.toString()),
};

function source() {
  return topology('types').stream('orders', { key: serdes.string, value: serdes.json<Order>() });
}

describe('sources', () => {
  it('types keys as nullable and values by the serdes', () => {
    expectTypeOf(source()).toEqualTypeOf<Stream<string | null, Order>>();
    const raw = topology('types').stream('raw', { key: serdes.buffer, value: serdes.auto });
    expectTypeOf(raw).toEqualTypeOf<Stream<Buffer | null, unknown>>();
  });

  it('needs both serdes', () => {
    // @ts-expect-error the value serde is missing
    expectTypeOf(() => topology('types').stream('in', { key: serdes.string })).toBeFunction();
  });
});

describe('operators', () => {
  it('infer the types callbacks return', () => {
    const orders = source();
    expectTypeOf(orders.mapValues((o) => o.total)).toEqualTypeOf<Stream<string | null, number>>();
    expectTypeOf(orders.map((o) => ({ key: o.id, value: o.total }))).toEqualTypeOf<Stream<string, number>>();
    expectTypeOf(orders.flatMapValues((o) => [o.id, o.id])).toEqualTypeOf<Stream<string | null, string>>();
    expectTypeOf(orders.flatMap((o) => [{ key: o.total, value: o }])).toEqualTypeOf<Stream<number, Order>>();
    expectTypeOf(orders.peek(() => {})).toEqualTypeOf<Stream<string | null, Order>>();
    expectTypeOf(orders.filter((o) => o.total > 0)).toEqualTypeOf<Stream<string | null, Order>>();
  });

  it('pass value, key and context', () => {
    source().peek((value, key, context) => {
      expectTypeOf(value).toEqualTypeOf<Order>();
      expectTypeOf(key).toEqualTypeOf<string | null>();
      expectTypeOf(context).toEqualTypeOf<RecordContext>();
    });
  });

  it('reject callbacks that misuse the value', () => {
    const orders = source();
    // @ts-expect-error an Order has no `price`
    orders.mapValues((o) => o.price);
    // @ts-expect-error a number has no toUpperCase
    orders.mapValues((o) => o.total).mapValues((n) => n.toUpperCase());
    // @ts-expect-error map must return { key, value }
    orders.map((o) => o.total);
    // @ts-expect-error flatMapValues must return an iterable
    orders.flatMapValues((o) => o.total);
    // @ts-expect-error the key may be null
    orders.mapValues((_o, key) => key.length);
  });

  it('reject a mapped stream declared as the wrong type', () => {
    // @ts-expect-error mapValues made it a number stream
    const wrong: Stream<string | null, string> = source().mapValues((o) => o.total);
    expectTypeOf(wrong).not.toBeAny();
  });
});

describe('filter', () => {
  it('narrows the value with a type guard', () => {
    const events = topology('types').stream('events', {
      key: serdes.string,
      value: serdes.json<Click | View>(),
    });
    expectTypeOf(events.filter((e): e is Click => e.type === 'click')).toEqualTypeOf<Stream<string | null, Click>>();
    // TypeScript infers simple guards by itself
    const maybe = events.mapValues((e) => (e.type === 'click' ? e.x : undefined));
    expectTypeOf(maybe.filter((x) => x !== undefined)).toEqualTypeOf<Stream<string | null, number>>();
  });

  it('narrows the key with a type guard on the key', () => {
    expectTypeOf(source().filter((_o, key) => key !== null)).toEqualTypeOf<Stream<string, Order>>();
  });

  it('rejects a guard for a type that is not a value type', () => {
    // @ts-expect-error a string is not an Order
    source().filter((o): o is string => typeof o === 'string');
  });
});

describe('branch', () => {
  it('returns a stream per predicate name', () => {
    const out = source().branch({ big: (o) => o.total >= 100, rest: () => true });
    expectTypeOf(out).toHaveProperty('big');
    expectTypeOf(out.big).toEqualTypeOf<Stream<string | null, Order>>();
    expectTypeOf(out.rest).toEqualTypeOf<Stream<string | null, Order>>();
    // @ts-expect-error there is no such branch
    expectTypeOf(out.small).toBeObject();
  });

  it('narrows a branch whose predicate is a type guard', () => {
    const events = topology('types').stream('events', {
      key: serdes.string,
      value: serdes.json<Click | View>(),
    });
    const { clicks, other } = events.branch({
      clicks: (e): e is Click => e.type === 'click',
      other: () => true,
    });
    expectTypeOf(clicks).toEqualTypeOf<Stream<string | null, Click>>();
    expectTypeOf(other).toEqualTypeOf<Stream<string | null, Click | View>>();
    const { views } = events.branch({
      views: (e, key, context): e is View => e.type === 'view' && key !== null && context.offset !== '',
    });
    expectTypeOf(views).toEqualTypeOf<Stream<string | null, View>>();
  });

  it('rejects predicates that do not return a boolean', () => {
    // @ts-expect-error a predicate returns boolean
    source().branch({ big: (o) => o.total });
  });
});

describe('merge', () => {
  it('merges streams of the same types', () => {
    const t = topology('types');
    const a = t.stream('a', { key: serdes.string, value: serdes.string });
    const b = t.stream('b', { key: serdes.string, value: serdes.string });
    expectTypeOf(a.merge(b)).toEqualTypeOf<Stream<string | null, string>>();
  });

  it('rejects streams of other types', () => {
    const t = topology('types');
    const a = t.stream('a', { key: serdes.string, value: serdes.string });
    const b = t.stream('b', { key: serdes.string, value: number });
    const c = t.stream('c', { key: number, value: serdes.string });
    // @ts-expect-error a number stream cannot merge into a string stream
    a.merge(b);
    // @ts-expect-error nor can a stream with other keys
    a.merge(c);
  });
});

describe('to', () => {
  it('returns the topology', () => {
    expectTypeOf(source().to('out')).toEqualTypeOf<Topology>();
  });

  it('takes serdes that can write the stream', () => {
    const lengths = source().mapValues((o) => o.id.length);
    lengths.to('out', { key: serdes.string, value: number });
    lengths.to('out', { value: serdes.json<number>() });
    // A serde of a wider type can write a narrower one.
    source().mapValues(() => 'a' as 'a' | 'b').to('out', { value: serdes.string });
    source().to('out', { value: serdes.json<Order | null>() });
  });

  it('rejects serdes of the wrong type', () => {
    const lengths = source().mapValues((o) => o.id.length);
    // @ts-expect-error a number stream cannot be written with a string serde
    lengths.to('out', { value: serdes.string });
    // @ts-expect-error the keys are strings, not numbers
    lengths.to('out', { key: number });
    // @ts-expect-error a string serde cannot write string | number
    source().mapValues((o): string | number => o.id).to('out', { value: serdes.string });
    // @ts-expect-error an unknown value needs a serde that writes anything
    topology('types').stream('raw', { key: serdes.string, value: serdes.auto }).to('out', { value: serdes.string });
  });

  it('ignores nulls, which are written without the serde', () => {
    source()
      .mapValues((o) => (o.total > 0 ? o.id : null))
      .to('out', { key: serdes.string, value: serdes.string });
  });
});

describe('serdes', () => {
  it('are typed', () => {
    expectTypeOf(serdes.string).toEqualTypeOf<Serde<string>>();
    expectTypeOf(serdes.buffer).toEqualTypeOf<Serde<Buffer>>();
    expectTypeOf(serdes.auto).toEqualTypeOf<Serde<unknown>>();
    expectTypeOf(serdes.json<Order>()).toEqualTypeOf<Serde<Order>>();
    expectTypeOf(serdes.json()).toEqualTypeOf<Serde<unknown>>();
  });
});
