import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { serdes, topology, tumbling } from '../../lib/index.ts';
import { committedOffsets, useStateDirs } from './helpers/claims.ts';
import { createTopic, produce, readAll, recordCount, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

// A recent hour (windows align to it): the broker's retention deletes records timestamped long ago.
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const show = (r: { key: string | null; value: string | null }) => {
  const w = JSON.parse(r.key!) as { key: string; start: number; end: number };
  return `${w.key}[${(w.start - base) / 1000},${(w.end - base) / 1000})=${r.value}`;
};

describe('open windows across a stop and a start', () => {
  const startRunner = useRunners();
  const stateDir = useStateDirs();

  it.each([
    ['the same state dir', false],
    ['a wiped state dir (restored from the changelogs alone)', true],
  ])('keep counting with %s, and close once with the count of both runs', async (_, wipe) => {
    const input = uniqueName('winrestart-in');
    const appId = uniqueName('winrestart');
    await createTopic(input, 1);
    const dir = await stateDir();
    const app = () => {
      const t = topology(appId);
      const grouped = t.stream(input, { key: serdes.string, value: serdes.string }).groupByKey();
      const windows = tumbling(10_000).grace(2_000);
      grouped.windowedBy(windows).count({ name: 'live' }).toStream().to(`${input}-update`);
      grouped.windowedBy(windows).count({ name: 'closing', emit: 'final' }).toStream().to(`${input}-final`);
      return t;
    };
    const send = (records: [string, number][]) =>
      produce(input, records.map(([key, s]) => ({ key, value: 'x', timestamp: String(base + s * 1000) })));

    const first = await startRunner(app(), { stateDir: dir });
    await send([['a', 1], ['b', 2], ['a', 3], ['a', 11]]);
    expect((await readAll(`${input}-update`, 4)).map(show)).toEqual(['a[0,10)=1', 'b[0,10)=1', 'a[0,10)=2', 'a[10,20)=1']);
    await waitFor('the first run to commit', async () => (await committedOffsets(appId, input))[0] === 4);
    await first.stop();
    expect(await recordCount(`${input}-final`)).toBe(0);

    if (wipe) await rm(dir, { recursive: true, force: true });
    const changelogs = (await recordCount(`${appId}-live-changelog`)) + (await recordCount(`${appId}-closing-changelog`));
    const second = await startRunner(app(), { stateDir: dir });
    // After the restart, [0,10) still takes records: stream time resumed from the newest window's start (10 s).
    await send([['a', 5], ['b', 9], ['a', 12], ['b', 30]]);
    expect((await readAll(`${input}-update`, 8)).map(show)).toEqual([
      'a[0,10)=1', 'b[0,10)=1', 'a[0,10)=2', 'a[10,20)=1',
      'a[0,10)=3', 'b[0,10)=2', 'a[10,20)=2', 'b[30,40)=1',
    ]);
    // b@30 s takes stream time past 10 + 2 and 20 + 2: both windows of a and b's [0,10) close, once.
    expect((await readAll(`${input}-final`, 3)).map(show).sort()).toEqual(['a[0,10)=3', 'a[10,20)=2', 'b[0,10)=2']);
    await waitFor('the counters', () => second.stats().consumed === 4);
    expect(second.stats().lateRecords).toBe(0);
    expect(second.stats().restoredRecords).toBe(wipe ? changelogs : 0);
  });
});
