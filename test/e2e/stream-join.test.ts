import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { joinWindows, serdes, start, topology } from '../../lib/index.ts';
import { useStateDirs } from './helpers/claims.ts';
import { brokers, createTopic, produce, readAllSettled, recordCount, uniqueName, type ReadRecord } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

// A recent hour: the broker's retention deletes records timestamped long ago.
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const show = (r: ReadRecord) => `${r.key}=${r.value}@${(Number(r.timestamp) - base) / 1000}`;
const text = { key: serdes.string, value: serdes.string };

describe('a stream–stream left join on the broker', () => {
  const startRunner = useRunners();
  const stateDir = useStateDirs();

  it('joins across a restart from the changelogs alone: buffered orders meet later payments, unmatched ones go out with null once their window closed', async () => {
    const orders = uniqueName('orders');
    const payments = uniqueName('payments');
    const out = uniqueName('paid');
    const appId = uniqueName('stream-join');
    await createTopic(orders, 1);
    await createTopic(payments, 1);
    const dir = await stateDir();
    const app = () => {
      const t = topology(appId);
      t.stream(orders, text)
        .leftJoin(t.stream(payments, text), (order, payment) => `${order}+${payment}`, joinWindows(5_000).grace(1_000), { name: 'paid' })
        .to(out, text);
      return t;
    };
    let consumed = 0;
    // One record at a time: the two topics are read side by side, not in timestamp order.
    const send = async (runner: { stats(): { consumed: number } }, topic: string, key: string, value: string, seconds: number) => {
      await produce(topic, [{ key, value, timestamp: String(base + seconds * 1000) }]);
      consumed++;
      await waitFor(`${value} consumed`, () => runner.stats().consumed === consumed);
    };

    const first = await startRunner(app(), { stateDir: dir });
    await send(first, orders, 'a', 'o1', 1);
    await send(first, orders, 'b', 'o2', 2);
    await send(first, orders, 'd', 'o4', 2);
    await send(first, payments, 'a', 'p1', 3);
    expect((await readAllSettled(out, { group: appId, inputs: [orders, payments] })).map(show)).toEqual(['a=o1+p1@3']);
    await first.stop();

    await rm(dir, { recursive: true, force: true });
    const changelogs = await Promise.all(['left', 'right', 'unmatched'].map((s) => recordCount(`${appId}-paid-${s}-changelog`)));
    expect(changelogs.every((n) => n > 0)).toBe(true);
    const second = await startRunner(app(), { stateDir: dir });
    consumed = 0;
    // o2 waited in the restored left buffer (and among the unmatched: p2 takes it out of there).
    await send(second, payments, 'b', 'p2', 4);
    await send(second, orders, 'c', 'o3', 5);
    // Stream time 12 s passes 2 + 5 + 1 and 5 + 5 + 1: o4 (restored) and o3 go out with null, oldest first.
    await send(second, payments, 'x', 'p9', 12);
    expect((await readAllSettled(out, { group: appId, inputs: [orders, payments] })).map(show)).toEqual([
      'a=o1+p1@3',
      'b=o2+p2@4',
      'd=o4+null@2',
      'c=o3+null@5',
    ]);
    expect(second.stats()).toMatchObject({ consumed: 3, restoredRecords: changelogs.reduce((a, b) => a + b, 0) });
  });

  it('refuses to start when the two streams are not co-partitioned', async () => {
    const left = uniqueName('left');
    const right = uniqueName('right');
    await createTopic(left, 2);
    await createTopic(right, 1);
    const t = topology(uniqueName('stream-join'));
    t.stream(left, text).join(t.stream(right, text), (l, r) => `${l}${r}`, joinWindows(1_000)).to(uniqueName('out'), text);
    const dir = await stateDir();
    await expect(start(t, { brokers: brokers(), stateDir: dir, logger: collectingLogger() })).rejects.toMatchObject({
      code: 'TOPIC_SETUP',
      message: `a join needs co-partitioned topics, but their partition counts differ: ${left} (2), ${right} (1)`,
    });
  });
});
