import { describe, expect, it } from 'vitest';
import { joinWindows, serdes, topology } from '../../../lib/index.ts';
import { TopologyTestDriver, type TestRecord } from '../../../lib/testing/index.ts';

const text = { key: serdes.string, value: serdes.string };
const show = (r: TestRecord<unknown, unknown>) => `${String(r.key)}=${String(r.value)}@${r.timestamp}`;

describe('TopologyTestDriver joins', () => {
  it('joins a stream with a table as the table is when each record comes', async () => {
    const app = topology('clicks');
    const users = app.table('users', { key: serdes.string, value: serdes.json<{ country: string }>() }, { name: 'users' });
    app
      .stream('clicks', text)
      .join(users, (page, user, id) => `${id} from ${user.country} saw ${page}`)
      .to('enriched', text);
    const driver = new TopologyTestDriver(app);
    const user = driver.input('users');
    const click = driver.input('clicks');
    await user.pipeInputs([
      { key: 'ann', value: { country: 'NO' }, timestamp: 1 },
      { key: 'bob', value: { country: 'PT' }, timestamp: 2 },
    ]);
    await click.pipeInputs([
      { key: 'ann', value: '/home', timestamp: 3 },
      { key: 'eve', value: '/home', timestamp: 4 },
    ]);
    await user.pipeInputs([
      { key: 'ann', value: { country: 'SE' }, timestamp: 5 },
      { key: 'bob', value: null, timestamp: 6 },
    ]);
    await click.pipeInputs([
      { key: 'ann', value: '/pay', timestamp: 7 },
      { key: 'bob', value: '/pay', timestamp: 8 },
    ]);
    expect(driver.output('enriched').readOutputs().map(show)).toEqual(['ann=ann from NO saw /home@3', 'ann=ann from SE saw /pay@7']);
    await driver.close();
  });

  it('joins two streams within the window, and passes an unmatched left record on with null once its window closed', async () => {
    const app = topology('paid');
    app
      .stream('orders', text)
      .leftJoin(app.stream('payments', text), (order, payment) => `${order}+${payment}`, joinWindows(5_000).grace(1_000), { name: 'paid' })
      .to('out', text);
    const driver = new TopologyTestDriver(app);
    const orders = driver.input('orders');
    const payments = driver.input('payments');
    const out = driver.output('out');
    await orders.pipeInput('a', 'o1', { timestamp: 1_000 });
    await orders.pipeInput('b', 'o2', { timestamp: 2_000 });
    await payments.pipeInput('a', 'p1', { timestamp: 3_000 });
    expect(out.readOutputs().map(show)).toEqual(['a=o1+p1@3000']);
    await payments.pipeInput('c', 'p2', { timestamp: 8_000 });
    expect(out.readOutputs()).toEqual([]);
    // 9 s passes o2's 2 + 5 + 1.
    await payments.pipeInput('c', 'p3', { timestamp: 9_000 });
    expect(out.readOutputs().map(show)).toEqual(['b=o2+null@2000']);
    await driver.close();
  });

  it('keeps a table–table left join, recomputing rows on changes of either side and ending them on deletes', async () => {
    const app = topology('profiles');
    const users = app.table('users', text, { name: 'users' });
    const cities = app.table('cities', text, { name: 'cities' });
    users.leftJoin(cities, (user, city) => `${user} in ${city ?? '?'}`, { name: 'profiles', value: serdes.string }).toStream().to('out', text);
    const driver = new TopologyTestDriver(app);
    const user = driver.input('users');
    const city = driver.input('cities');
    await user.pipeInput('ann', 'Ann', { timestamp: 1 });
    await user.pipeInput('bob', 'Bob', { timestamp: 2 });
    await city.pipeInput('ann', 'Oslo', { timestamp: 3 });
    await city.pipeInput('bob', 'Rome', { timestamp: 1 });
    await user.pipeInput('ann', null, { timestamp: 5 });
    await city.pipeInput('ann', 'Bergen', { timestamp: 6 });
    // A result carries the later of its two sides' times; a delete that ends a row passes on null.
    expect(driver.output('out').readOutputs().map(show)).toEqual(['ann=Ann in ?@1', 'bob=Bob in ?@2', 'ann=Ann in Oslo@3', 'bob=Bob in Rome@2', 'ann=null@5']);
    expect(await driver.store('profiles').all()).toEqual([{ key: 'bob', value: 'Bob in Rome' }]);
    await driver.close();
  });
});
