import { describe, expect, expectTypeOf, it } from 'vitest';
import { serdes, session, topology, tumbling, type Stream, type Table, type Windowed } from '../../lib/index.ts';

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
});
