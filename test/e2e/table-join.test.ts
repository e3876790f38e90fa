import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { useStateDirs } from './helpers/claims.ts';
import { createTopic, produce, readAllSettled, uniqueName, type ReadRecord } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

const base = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const text = { key: serdes.string, value: serdes.string };
/** Each key's results in order (keys may sit in different partitions), with their times. */
const byKey = (records: readonly ReadRecord[]) => {
  const keys = new Map<string, string[]>();
  for (const r of records) keys.set(r.key!, [...(keys.get(r.key!) ?? []), `${r.value}@${(Number(r.timestamp) - base) / 1000}`]);
  return Object.fromEntries([...keys].sort(([a], [b]) => a.localeCompare(b)));
};

describe('a table–table left join on the broker', () => {
  const startRunner = useRunners();
  const stateDir = useStateDirs();

  it('keeps joining after a restart from the changelogs alone, deletes included', async () => {
    const users = uniqueName('users');
    const cities = uniqueName('cities');
    const out = uniqueName('profiles');
    const appId = uniqueName('table-join');
    await createTopic(users, 2);
    await createTopic(cities, 2);
    const dir = await stateDir();
    const app = () => {
      const t = topology(appId);
      const people = t.table(users, text, { name: 'users' });
      const places = t.table(cities, text, { name: 'cities' });
      people.leftJoin(places, (user, city) => `${user} in ${city ?? '?'}`, { name: 'profiles', value: serdes.string }).toStream().to(out, text);
      return t;
    };
    let consumed = 0;
    const send = async (runner: { stats(): { consumed: number } }, topic: string, key: string, value: string | null, seconds: number) => {
      await produce(topic, [{ key, value, timestamp: String(base + seconds * 1000) }]);
      consumed++;
      await waitFor(`${topic} ${key}=${value} consumed`, () => runner.stats().consumed === consumed);
    };
    const settled = async () => byKey(await readAllSettled(out, { group: appId, inputs: [users, cities] }));

    const first = await startRunner(app(), { stateDir: dir });
    await send(first, users, 'ann', 'Ann', 1);
    await send(first, users, 'bob', 'Bob', 2);
    await send(first, users, 'cid', 'Cid', 2);
    await send(first, cities, 'ann', 'Oslo', 3);
    expect(await settled()).toEqual({ ann: ['Ann in ?@1', 'Ann in Oslo@3'], bob: ['Bob in ?@2'], cid: ['Cid in ?@2'] });
    await first.stop();

    await rm(dir, { recursive: true, force: true });
    const second = await startRunner(app(), { stateDir: dir });
    consumed = 0;
    // Rome's record is older than Bob's: the result carries Bob's time, restored with the join.
    await send(second, cities, 'bob', 'Rome', 1);
    await send(second, users, 'ann', null, 5);
    // No user ann any more: a change of her city changes no row.
    await send(second, cities, 'ann', 'Bergen', 6);
    await send(second, users, 'bob', 'Robert', 3);
    // Cid has no city: only the restored change times say that Cid had a row to delete.
    await send(second, users, 'cid', null, 7);
    expect(await settled()).toEqual({
      ann: ['Ann in ?@1', 'Ann in Oslo@3', 'null@5'],
      bob: ['Bob in ?@2', 'Bob in Rome@2', 'Robert in Rome@3'],
      cid: ['Cid in ?@2', 'null@7'],
    });
    expect(second.stats().consumed).toBe(5);
    expect(second.stats().restoredRecords).toBeGreaterThan(0);
  });
});
