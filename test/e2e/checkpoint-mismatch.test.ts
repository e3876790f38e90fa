import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { committedOffsets, useStateDirs } from './helpers/claims.ts';
import { aggregateText, createTopic, produce, readAll, recordCount, uniqueName, withAdmin, type ReadRecord } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

/** Counts per key in the store `counts`, over one partition, served on a free port. */
const counter = (appId: string, input: string) =>
  topology(appId)
    .stream(input, { key: serdes.string, value: serdes.string })
    .groupByKey()
    .count({ name: 'counts' })
    .toStream()
    .to(`${input}-out`, { value: serdes.json<number>() });

/**
 * The store's entries once a task serves it: the restore log line comes just before the task
 * joins the ones queries ask, and until then the store answers with no entries.
 */
async function storeEntries(url: string): Promise<Record<string, unknown>> {
  const body = await waitFor('the restored store to be served', async () => {
    const answer = (await (await fetch(`${url}/stores/counts?limit=1000`)).json()) as { entries: { key: string; value: unknown }[] };
    return answer.entries.length > 0 && answer;
  });
  return Object.fromEntries(body.entries.map((e) => [e.key, e.value]));
}

/** The latest value per key in changelog records, as the store should hold them (a null value deletes). */
function latest(records: readonly ReadRecord[]): Record<string, unknown> {
  const state = new Map<string, unknown>();
  for (const r of records) {
    if (r.value === null) state.delete(r.key!);
    else state.set(r.key!, JSON.parse(aggregateText(r)!));
  }
  return Object.fromEntries([...state].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('a checkpoint that does not fit the changelog', () => {
  const startRunner = useRunners();
  const stateDir = useStateDirs();

  /** Counts 10 keys in two commits (k0–k4, then k5–k9), stops, and returns where things are. */
  async function countedAndStopped() {
    const appId = uniqueName('ckpt');
    const input = uniqueName('ckpt-in');
    const changelog = `${appId}-counts-changelog`;
    await createTopic(input, 1);
    const dir = await stateDir();
    const first = await startRunner(counter(appId, input), { stateDir: dir });
    const batch = (keys: number[], times: number) => keys.flatMap((k) => Array.from({ length: times }, () => ({ key: `k${k}`, value: 'x' })));
    await produce(input, batch([0, 1, 2, 3, 4], 3));
    await waitFor('the first commit', async () => (await committedOffsets(appId, input))[0] === 15);
    await produce(input, batch([5, 6, 7, 8, 9], 2));
    await waitFor('the second commit', async () => (await committedOffsets(appId, input))[0] === 25);
    await first.stop();
    const checkpoint = join(dir, appId, '0_0', 'counts.checkpoint');
    return { appId, input, changelog, dir, checkpoint, records: await readAll(changelog, 10) };
  }

  it('beyond the changelog end (the files and the changelog intact): the store restores from the beginning, exact', async () => {
    const s = await countedAndStopped();
    await writeFile(s.checkpoint, JSON.stringify({ offset: '999999' }));
    const logger = collectingLogger();
    const runner = await startRunner(counter(s.appId, s.input), { stateDir: s.dir, logger, port: 0 });
    const size = await recordCount(s.changelog);
    await waitFor('the store restored', () => logger.lines.some((l) => l.includes('restored store counts of task 0_0')));
    expect(logger.lines.find((l) => l.includes('restored store counts'))).toMatch(
      new RegExp(`^info restored store counts of task 0_0 \\{"records":${size},"fromOffset":"0","toOffset":"${size}",`),
    );
    expect(runner.stats().restoredRecords).toBe(size);
    expect(await storeEntries(runner.httpUrl!)).toEqual({ k0: 3, k1: 3, k2: 3, k3: 3, k4: 3, k5: 2, k6: 2, k7: 2, k8: 2, k9: 2 });
  });

  it('beyond the end of a changelog that lost records: the store holds exactly what the changelog holds', async () => {
    const s = await countedAndStopped();
    // The changelog is recreated with only the records of k5–k9 (fewer than the checkpoint counts).
    const kept = s.records.filter((r) => ['k5', 'k6', 'k7', 'k8', 'k9'].includes(r.key!));
    await withAdmin((admin) => admin.deleteTopics({ topics: [s.changelog] }));
    await waitFor('the changelog gone', () => withAdmin(async (admin) => !(await admin.listTopics()).includes(s.changelog)));
    await withAdmin((admin) =>
      admin.createTopics({ waitForLeaders: true, topics: [{ topic: s.changelog, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] }),
    );
    await produce(s.changelog, kept.map((r) => ({ key: r.key, value: r.valueBytes })));

    const runner = await startRunner(counter(s.appId, s.input), { stateDir: s.dir, port: 0 });
    await waitFor('the store restored', () => runner.stats().restoredRecords === kept.length);
    expect(await storeEntries(runner.httpUrl!)).toEqual(latest(kept));
    expect(latest(kept)).toEqual({ k5: 2, k6: 2, k7: 2, k8: 2, k9: 2 });
  });

  it('below the changelog start after records were deleted: the store holds exactly what is left of the changelog', async () => {
    const s = await countedAndStopped();
    // The store's files and checkpoint are older than what the changelog still has.
    const secondCommit = s.records.findIndex((r) => r.key === 'k5');
    const from = Number(s.records[secondCommit]!.offset);
    await withAdmin(async (admin) => {
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: s.changelog, configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' }] }] });
      await admin.deleteTopicRecords({ topic: s.changelog, partitions: [{ partition: 0, offset: String(from) }] });
    });
    await writeFile(s.checkpoint, JSON.stringify({ offset: '1' }));
    const left = s.records.filter((r) => Number(r.offset) >= from);

    const logger = collectingLogger();
    const runner = await startRunner(counter(s.appId, s.input), { stateDir: s.dir, logger, port: 0 });
    await waitFor('the store restored', () => logger.lines.some((l) => l.includes('restored store counts of task 0_0')));
    expect(logger.lines.find((l) => l.includes('restored store counts'))).toContain(`"records":${left.length},"fromOffset":"${from}"`);
    expect(await storeEntries(runner.httpUrl!)).toEqual(latest(left));
    expect(Object.keys(latest(left))).toEqual(['k5', 'k6', 'k7', 'k8', 'k9']);
  });
});
