import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { useStateDirs } from './helpers/claims.ts';
import { createTopic, produce, readAll, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

describe('stream.leftJoin(table) at run time', () => {
  const startRunner = useRunners();
  const stateDir = useStateDirs();

  it('passes every record on, with null where the table lacks the key (never had it, or it was deleted)', async () => {
    const users = uniqueName('users');
    const clicks = uniqueName('clicks');
    const enriched = uniqueName('left');
    await createTopic(users, 2);
    await createTopic(clicks, 2);
    const app = topology(uniqueName('leftjoin'));
    const table = app.table(users, { key: serdes.string, value: serdes.json<{ country: string }>() }, { name: 'users' });
    app
      .stream(clicks, { key: serdes.string, value: serdes.string })
      .leftJoin(table, (page, user, id) => ({ id, page, country: user === null ? null : user.country }))
      .to(enriched, { value: serdes.json() });
    const runner = await startRunner(app, { stateDir: await stateDir() });

    await produce(users, [
      { key: 'ann', value: JSON.stringify({ country: 'NO' }) },
      { key: 'bob', value: JSON.stringify({ country: 'PT' }) },
    ]);
    await waitFor('the users in the table', () => runner.stats().consumed === 2);
    await produce(clicks, ['ann', 'eve', 'bob'].map((key) => ({ key, value: '/home' })));
    await waitFor('the first clicks', () => runner.stats().consumed === 5);
    await produce(users, [{ key: 'bob', value: null }]);
    await waitFor('bob deleted', () => runner.stats().consumed === 6);
    await produce(clicks, ['ann', 'bob', 'eve'].map((key) => ({ key, value: '/pay' })));

    const out = await readAll(enriched, 6);
    const byKey = (key: string) => out.filter((r) => r.key === key).map((r) => JSON.parse(r.value!));
    expect(byKey('ann')).toEqual([{ id: 'ann', page: '/home', country: 'NO' }, { id: 'ann', page: '/pay', country: 'NO' }]);
    expect(byKey('bob')).toEqual([{ id: 'bob', page: '/home', country: 'PT' }, { id: 'bob', page: '/pay', country: null }]);
    expect(byKey('eve')).toEqual([{ id: 'eve', page: '/home', country: null }, { id: 'eve', page: '/pay', country: null }]);
    expect(out).toHaveLength(6);
    await waitFor('the counters', () => runner.stats().consumed === 9);
    expect(runner.stats().produced).toBe(6);
  });
});
