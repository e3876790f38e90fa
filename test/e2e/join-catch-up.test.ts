import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { createTopic, produce, readAllSettled, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';

const PARTITIONS = 4;
const USERS = 40_000;
const VIEWS = 20_000;
const REGIONS = ['eu', 'us', 'apac', 'latam', 'mena'];
// A recent hour: the broker's retention would delete records with timestamps from 1970.
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const regionOf = (user: number) => REGIONS[(user * 7) % REGIONS.length]!;

describe('a stream–table join catching up on a backlog', () => {
  const startRunner = useRunners();

  for (const subscribed of ['table first', 'stream first'] as const) {
    it(`joins every view of a backlog with the whole table, read to its end first (${subscribed} in the topology)`, async () => {
      const usersTopic = uniqueName('users');
      const viewsTopic = uniqueName('views');
      const output = `${viewsTopic}-with-region`;
      await createTopic(usersTopic, PARTITIONS);
      await createTopic(viewsTopic, PARTITIONS);
      // The table first, an hour before the views, as a user directory that existed already.
      await produce(usersTopic, Array.from({ length: USERS }, (_, u) => ({ key: `user-${u}`, value: `${regionOf(u)}`, timestamp: String(base), headers: { pad: "x".repeat(200) } })));
      await produce(
        viewsTopic,
        Array.from({ length: VIEWS }, (_, i) => ({ key: `user-${i % USERS}`, value: `view-${i}`, timestamp: String(base + 3_600_000 + i) })),
      );
      const app = topology(uniqueName('join-catch-up'));
      const text = { key: serdes.string, value: serdes.string };
      const build = () => {
        if (subscribed === 'table first') {
          const users = app.table(usersTopic, text, { name: 'users' });
          return app.stream(viewsTopic, text).join(users, (view, region) => `${view}@${region}`);
        }
        const views = app.stream(viewsTopic, text);
        return views.join(app.table(usersTopic, text, { name: 'users' }), (view, region) => `${view}@${region}`);
      };
      build().to(output, text);
      const runner = await startRunner(app);
      const joined = await readAllSettled(output, { group: runner.appId, inputs: [viewsTopic, usersTopic], timeoutMs: 150_000 });
      expect(joined.length).toBe(VIEWS);
      const wrong = joined.filter((r) => r.value !== `view-${r.value!.split('@')[0]!.slice(5)}@${regionOf(Number(r.key!.slice(5)))}`);
      expect(wrong).toEqual([]);
    });
  }
});
