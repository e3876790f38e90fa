/*
 * Type tests for streamrun/testing: `npx tsc --noEmit` checks them (each @ts-expect-error must
 * be an error, or tsc fails); at runtime they only open drivers, which pipe nothing.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { Windowed } from '../../lib/dsl/windows.ts';
import type { KeyValue } from '../../lib/graph/nodes.ts';
import { serdes, topology, tumbling } from '../../lib/index.ts';
import { TopologyTestDriver, type TestRecord } from '../../lib/testing/index.ts';

const app = topology('types').stream('in', { key: serdes.string, value: serdes.json<{ n: number }>() }).to('out');

describe('TopologyTestDriver', () => {
  it('types a topic by the serdes given, else by the type arguments, else unknown', () => {
    const driver = new TopologyTestDriver(app);
    expectTypeOf(driver.input('in', { key: serdes.string, value: serdes.json<{ n: number }>() }).pipeInput).parameter(1).toEqualTypeOf<{ n: number } | null>();
    expectTypeOf(driver.output<string, number>('out').readOutput()).toEqualTypeOf<TestRecord<string, number> | undefined>();
    expectTypeOf(driver.output('out').readOutputs()).toEqualTypeOf<TestRecord<unknown, unknown>[]>();
    const typed = driver.input<string, { n: number }>('in');
    expectTypeOf(typed.pipeInput).toBeCallableWith('k', { n: 1 }, { timestamp: 1 });
    // @ts-expect-error a value of another type
    expectTypeOf(typed.pipeInput).toBeCallableWith('k', 'text');
    // @ts-expect-error a timestamp is a number of ms
    expectTypeOf(typed.pipeInput).toBeCallableWith('k', { n: 1 }, { timestamp: '1' });
    void driver.close();
  });

  it('types store reads by the type arguments', () => {
    const counting = topology('types');
    const grouped = counting.stream('in', { key: serdes.string, value: serdes.string }).groupByKey();
    grouped.count({ name: 'totals' });
    grouped.windowedBy(tumbling(10)).count({ name: 'windows' });
    const driver = new TopologyTestDriver(counting);
    const totals = driver.store<string, number>('totals');
    expectTypeOf(totals.get).returns.toEqualTypeOf<Promise<number | undefined>>();
    expectTypeOf(driver.windowStore<string, number>('windows').fetch).returns.toEqualTypeOf<Promise<KeyValue<Windowed<string>, number>[]>>();
    // @ts-expect-error a key of another type
    expectTypeOf(totals.get).toBeCallableWith(1);
    void driver.close();
  });
});
