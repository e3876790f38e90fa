import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { serdes, sliding, topology } from '../../lib/index.ts';
import { committedOffsets, useStateDirs } from './helpers/claims.ts';
import { createTopic, produce, readAll, readAllSettled, recordCount, uniqueName, type ReadRecord } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

// A recent hour: the broker's retention deletes records timestamped long ago.
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000;
/** `a[12,22]=3@22`: the window in seconds after `base` (ends included), the count, the output's time. */
const show = (r: ReadRecord) => {
  const w = JSON.parse(r.key!) as { key: string; start: number; end: number };
  return `${w.key}[${(w.start - base) / 1000},${(w.end - base) / 1000}]=${r.value}@${(Number(r.timestamp) - base) / 1000}`;
};

describe('sliding windows on the broker, across a restart from the changelogs alone', () => {
  const startRunner = useRunners();
  const stateDir = useStateDirs();

  it("counts as Kafka Streams' sliding windows, and a record behind stream time after the restart builds on the restored windows", async () => {
    const input = uniqueName('sliding-in');
    const appId = uniqueName('sliding');
    await createTopic(input, 1);
    const dir = await stateDir();
    const app = () => {
      const t = topology(appId);
      const grouped = t.stream(input, { key: serdes.string, value: serdes.string }).groupByKey();
      const windows = sliding(10_000).grace(2_000);
      grouped.windowedBy(windows).count({ name: 'live' }).toStream().to(`${input}-update`);
      grouped.windowedBy(windows).count({ name: 'closing', emit: 'final' }).toStream().to(`${input}-final`);
      return t;
    };
    const send = (seconds: number[]) => produce(input, seconds.map((s) => ({ key: 'a', value: 'x', timestamp: String(base + s * 1000) })));

    const first = await startRunner(app(), { stateDir: dir });
    await send([11, 14, 22]);
    const before = ['a[1,11]=1@11', 'a[11.001,21.001]=1@14', 'a[4,14]=2@14', 'a[14.001,24.001]=1@22', 'a[12,22]=2@22'];
    expect((await readAll(`${input}-update`, 5)).map(show)).toEqual(before);
    // Stream time 22 s: windows ending by 22 - 2 s are final.
    expect((await readAll(`${input}-final`, 2)).map(show)).toEqual(['a[1,11]=1@11', 'a[4,14]=2@14']);
    await waitFor('the first run to commit', async () => (await committedOffsets(appId, input))[0] === 3);
    await first.stop();

    await rm(dir, { recursive: true, force: true });
    const changelogs = (await recordCount(`${appId}-live-changelog`)) + (await recordCount(`${appId}-closing-changelog`));
    const second = await startRunner(app(), { stateDir: dir });
    await send([19, 40]);
    // a@19 is 3 s behind stream time: it joins the restored windows that are still open
    // (newest first, as Kafka Streams reads them), [9,19] closed at 19 + 2 < 22 s; its right
    // window holds a@22.
    expect((await readAll(`${input}-update`, 10)).map(show)).toEqual([
      ...before,
      'a[14.001,24.001]=2@22',
      'a[12,22]=3@22',
      'a[11.001,21.001]=2@19',
      'a[19.001,29.001]=1@22',
      'a[30,40]=1@40',
    ]);
    // a@40 closes every window ending by 38 s, once; [30,40] stays open.
    const finals = await readAllSettled(`${input}-final`, { group: appId, inputs: [input] });
    expect(finals.map(show)).toEqual([
      'a[1,11]=1@11',
      'a[4,14]=2@14',
      'a[11.001,21.001]=2@19',
      'a[12,22]=3@22',
      'a[14.001,24.001]=2@22',
      'a[19.001,29.001]=1@22',
    ]);
    expect(second.stats()).toMatchObject({ consumed: 2, lateRecords: 0, restoredRecords: changelogs });
  });
});
