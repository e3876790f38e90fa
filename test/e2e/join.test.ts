import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { useCleanup } from './helpers/cleanup.ts';
import { createTopic, produce, readAllSettled, uniqueName } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

interface User {
  country: string;
}

describe('table(topic) and stream.join(table)', () => {
  const cleanup = useCleanup();
  const startRunner = useRunners();

  it('enriches each click with the user as the table holds it at that moment, and restores the table from its topic', async () => {
    const users = uniqueName('users');
    const clicks = uniqueName('clicks');
    const enriched = uniqueName('enriched');
    await createTopic(users, 2);
    await createTopic(clicks, 2);
    const stateDir = await cleanup.tempDir('streamrun-join-');
    const build = (appId: string) => {
      const app = topology(appId);
      const table = app.table(users, { key: serdes.string, value: serdes.json<User>() }, { name: 'users' });
      app
        .stream(clicks, { key: serdes.string, value: serdes.string })
        .join(table, (page, user, id) => `${id} from ${user.country} saw ${page}`)
        .to(enriched);
      return app;
    };
    const appId = uniqueName('join');
    const logger = collectingLogger();
    const runner = await startRunner(build(appId), { stateDir, logger });

    await produce(users, [
      { key: 'ann', value: JSON.stringify({ country: 'NO' }) },
      { key: 'bob', value: JSON.stringify({ country: 'PT' }) },
    ]);
    await waitFor('the users in the table', () => runner.stats().consumed === 2);
    await produce(clicks, [
      { key: 'ann', value: '/home' },
      { key: 'bob', value: '/cart' },
      { key: 'eve', value: '/home' }, // no such user: an inner join drops it
    ]);
    await waitFor('the clicks', () => runner.stats().consumed === 5);
    await produce(users, [
      { key: 'ann', value: JSON.stringify({ country: 'SE' }) },
      { key: 'bob', value: null }, // bob leaves
    ]);
    await waitFor('the user changes', () => runner.stats().consumed === 7);
    await produce(clicks, [
      { key: 'ann', value: '/pay' },
      { key: 'bob', value: '/pay' },
    ]);
    await waitFor('the last clicks', () => runner.stats().consumed === 9);
    const settled = () => readAllSettled(enriched, { group: appId, inputs: [users, clicks] });
    const before = ['ann from NO saw /home', 'bob from PT saw /cart', 'ann from SE saw /pay'];
    expect((await settled()).map((r) => r.value).sort()).toEqual([...before].sort());

    // A wiped disk: the table comes back from the users topic itself.
    await runner.stop();
    await rm(stateDir, { recursive: true, force: true });
    const again = await startRunner(build(appId), { stateDir, logger: collectingLogger() });
    await waitFor('the table restored', () => again.stats().restoredRecords === 4);
    await produce(clicks, [{ key: 'ann', value: '/back' }, { key: 'bob', value: '/back' }]);
    // bob's tombstone came back with the table: his click is dropped.
    const after = await settled();
    expect(after.map((r) => r.value).sort()).toEqual([...before, 'ann from SE saw /back'].sort());
    expect(again.stats()).toMatchObject({ consumed: 2, produced: 1, restoredRecords: 4 });
  });
});
