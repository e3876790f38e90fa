import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../../../lib/index.ts';
import { TaskHarness } from '../../../../lib/testing/task-harness.ts';

const text = { key: serdes.string, value: serdes.string };
const read = (records: { key: Buffer | null; value: Buffer | null; timestamp: number }[]) =>
  records.map((r) => `${r.key?.toString()}=${r.value?.toString() ?? null}@${r.timestamp}`);

describe('table–table join', () => {
  it('keeps the joined table in its store, which a stream can join', async () => {
    const app = topology('t');
    const users = app.table('users', text, { name: 'users' });
    const addresses = app.table('addresses', text, { name: 'addresses' });
    const profiles = users.join(addresses, (u, a) => `${u} at ${a}`, { name: 'profiles', value: serdes.string });
    app.stream('orders', text).join(profiles, (o, p) => `${o} for ${p}`).to('out', text);
    const harness = await TaskHarness.create(app);
    await harness.pipe('users', { key: 'ann', value: 'Ann', timestamp: 1 });
    await harness.pipe('addresses', { key: 'ann', value: 'Oslo', timestamp: 2 });
    await harness.pipe('orders', { key: 'ann', value: 'o1', timestamp: 3 });
    await harness.pipe('addresses', { key: 'ann', value: null, timestamp: 4 });
    await harness.pipe('orders', { key: 'ann', value: 'o2', timestamp: 5 });
    expect(read(harness.take('out'))).toEqual(['ann=o1 for Ann at Oslo@3']);
    const stores = harness.taskOf('orders').stores!;
    expect(stores.get('profiles').get('ann')).toBeUndefined();
    await harness.pipe('addresses', { key: 'ann', value: 'Rome', timestamp: 6 });
    expect(stores.get('profiles').get('ann')).toBe('Ann at Rome');
    // When each side last changed: [left, right].
    expect(stores.get('profiles-times').get('ann')).toEqual([1, 6]);
    await harness.close();
  });

  it('joins an aggregate table by its value, and stamps results with the aggregate’s newest time', async () => {
    const app = topology('t');
    const names = app.table('names', text, { name: 'names' });
    const clicks = app.stream('clicks', text).groupByKey().count({ name: 'clicks' });
    names
      .leftJoin(clicks, (name, n) => `${name}:${n}`, { name: 'summary', value: serdes.string })
      .toStream()
      .to('out', text);
    const harness = await TaskHarness.create(app);
    await harness.pipe('clicks', { key: 'a', value: 'x', timestamp: 9 });
    await harness.pipe('names', { key: 'a', value: 'Ann', timestamp: 5 });
    await harness.pipe('clicks', { key: 'a', value: 'x', timestamp: 7 });
    await harness.pipe('names', { key: 'a', value: null, timestamp: 8 });
    expect(read(harness.take('out'))).toEqual(['a=Ann:1@9', 'a=Ann:2@9', 'a=null@9']);
    await harness.close();
  });
});
