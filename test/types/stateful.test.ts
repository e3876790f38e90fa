import { describe, expect, expectTypeOf, it } from 'vitest';
import { joinWindows, serdes, session, sliding, topology, tumbling, type Stream, type Table, type Windowed } from '../../lib/index.ts';

// Checked by tsc (npm test type-checks first); at run time these only build topologies.
describe('stateful DSL types', () => {
  const app = topology('types');
  const words = app.stream('lines', { key: serdes.string, value: serdes.string });

  it('carries the key and aggregate types into tables and back into streams', () => {
    const counts = words.groupByKey().count({ name: 'c' });
    expectTypeOf(counts).toEqualTypeOf<Table<string, number>>();
    expectTypeOf(counts.toStream()).toEqualTypeOf<Stream<string, number>>();
    const lengths = words.groupBy((line) => line.length).aggregate(() => [] as string[], (all, line) => [...all, line], { name: 'by-length' });
    expectTypeOf(lengths).toEqualTypeOf<Table<number, string[]>>();
    const windowed = words.groupByKey().windowedBy(tumbling(1000)).count({ name: 'w', emit: 'final' });
    expectTypeOf(windowed).toEqualTypeOf<Table<Windowed<string>, number>>();
    // @ts-expect-error the reducer must return the value type
    words.groupByKey().reduce((a, b) => a.length + b.length, { name: 'r' });
    // JavaScript callers get the same check at run time.
    expect(() =>
      // @ts-expect-error emit is 'update' or 'final'
      words.groupByKey().windowedBy(session(1000)).count({ name: 's', emit: 'sometimes' }),
    ).toThrow("emit must be 'update' or 'final'");
  });

  it('types joins from the table', () => {
    const users = app.table('users', { key: serdes.string, value: serdes.json<{ country: string }>() }, { name: 'users' });
    const joined = words.join(users, (line, user) => `${line}:${user.country}`);
    expectTypeOf(joined).toEqualTypeOf<Stream<string, string>>();
    words.leftJoin(users, (line, user) => {
      expectTypeOf(user).toEqualTypeOf<{ country: string } | null>();
      return line;
    });
    const byNumber = app.table('numbers', { key: serdes.json<number>(), value: serdes.string }, { name: 'numbers' });
    // @ts-expect-error the table's keys must be the stream's keys
    words.join(byNumber, (line) => line);
  });

  it('types sliding windows like the other windows', () => {
    const recent = words.groupByKey().windowedBy(sliding(1000).grace(10)).aggregate(() => 0, (n, line) => n + line.length, { name: 'recent' });
    expectTypeOf(recent).toEqualTypeOf<Table<Windowed<string>, number>>();
    // @ts-expect-error sliding windows take a number of ms
    expect(() => sliding('1s')).toThrow('expected a whole number of ms');
  });

  it('types stream–stream joins: each side keeps its value type, a missing side is null', () => {
    const amounts = app.stream('amounts', { key: serdes.string, value: serdes.json<number>() });
    const windows = joinWindows(1000).before(0).grace(100);
    const joined = words.join(amounts, (line, amount, key) => {
      expectTypeOf(amount).toEqualTypeOf<number>();
      expectTypeOf(key).toEqualTypeOf<string>();
      return `${line}:${amount}`;
    }, windows);
    expectTypeOf(joined).toEqualTypeOf<Stream<string, string>>();
    const left = words.leftJoin(amounts, (_line, amount, key) => {
      expectTypeOf(amount).toEqualTypeOf<number | null>();
      expectTypeOf(key).toEqualTypeOf<string | null>();
      return amount ?? 0;
    }, windows);
    expectTypeOf(left).toEqualTypeOf<Stream<string | null, number>>();
    words.outerJoin(amounts, (line, amount) => {
      expectTypeOf(line).toEqualTypeOf<string | null>();
      expectTypeOf(amount).toEqualTypeOf<number | null>();
      return 1;
    }, windows);
    // A stream whose nulls were filtered out joins one that may have them, and back.
    const keyed = words.filter((_line, key): key is string => key !== null);
    expectTypeOf(keyed.join(amounts, (l) => l, windows)).toEqualTypeOf<Stream<string, string>>();
    const numbered = app.stream('numbered', { key: serdes.json<number>(), value: serdes.string });
    // @ts-expect-error the other stream's keys must be this stream's
    words.join(numbered, (line) => line, windows);
    // @ts-expect-error a windowed join needs join windows
    expect(() => words.join(amounts, (line) => line, tumbling(10))).toThrow('expected join windows');
  });

  it('types table–table joins: the joined table has the joiner\'s type', () => {
    const users = app.table('t-users', { key: serdes.string, value: serdes.json<{ name: string }>() }, { name: 't-users' });
    const visits = words.groupByKey().count({ name: 'visits' });
    const profiles = users.join(visits, (user, n) => `${user.name}:${n}`, { name: 'profiles' });
    expectTypeOf(profiles).toEqualTypeOf<Table<string, string>>();
    users.leftJoin(visits, (user, n) => {
      expectTypeOf(user).toEqualTypeOf<{ name: string }>();
      expectTypeOf(n).toEqualTypeOf<number | null>();
      return 0;
    });
    const both = users.outerJoin(visits, (user, n) => user?.name ?? String(n));
    expectTypeOf(both.toStream()).toEqualTypeOf<Stream<string, string>>();
    const byNumber = app.table('t-numbers', { key: serdes.json<number>(), value: serdes.string }, { name: 't-numbers' });
    // @ts-expect-error the tables' keys must be the same type
    users.join(byNumber, (u) => u);
    // @ts-expect-error the store keeps what the joiner returns
    users.join(visits, (user) => user.name, { name: 'x', value: serdes.json<number>() });
  });
});
