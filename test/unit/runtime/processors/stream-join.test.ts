import { describe, expect, it } from 'vitest';
import { joinWindows, serdes, StreamrunError, topology } from '../../../../lib/index.ts';
import { TaskHarness } from '../../../../lib/testing/task-harness.ts';

const text = { key: serdes.string, value: serdes.string };

describe('stream–stream join', () => {
  it("gives the README's example: orders left-joined with payments within 5 s, grace 1 s", async () => {
    const app = topology('j');
    const orders = app.stream('orders', text);
    orders.leftJoin(app.stream('payments', text), (o, p) => `${o}+${p}`, joinWindows(5_000).grace(1_000), { name: 'paid' }).to('out', text);
    const harness = await TaskHarness.create(app);
    const seen: string[] = [];
    const records: [string, string, string, number][] = [['orders', 'a', 'o1', 1], ['payments', 'a', 'p1', 3], ['orders', 'b', 'o2', 2], ['payments', 'c', 'p2', 8], ['payments', 'c', 'p3', 9]];
    for (const [topic, key, value, s] of records) {
      await harness.pipe(topic, { key, value, timestamp: s * 1000 });
      for (const r of harness.take('out')) seen.push(`${value}: ${r.key?.toString()}=${r.value?.toString()}@${r.timestamp / 1000}`);
    }
    expect(seen).toEqual(['p1: a=o1+p1@3', 'p3: b=o2+null@2']);
    await harness.close();
  });

  it('counts a record that came after its window closed as late, and still joins what the buffer keeps', async () => {
    const app = topology('j');
    const left = app.stream('left', text);
    left.join(app.stream('right', text), (l, r) => `${l}|${r}`, joinWindows(5).grace(1), { name: 'j' }).to('out', text);
    const harness = await TaskHarness.create(app);
    const pipe = (topic: string, value: string, timestamp: number) => harness.pipe(topic, { key: 'a', value, timestamp });
    await pipe('left', 'L1', 10);
    await pipe('right', 'R1', 30);
    // 14 + 5 + 1 < 30: late; the left buffer still shows L1 (its newest record is L1 itself).
    await pipe('right', 'R2', 14);
    expect(harness.take('out').map((r) => [r.value?.toString(), r.timestamp])).toEqual([['L1|R2', 14]]);
    // The left buffer moves to 40: it shows records from 40 - 11 + 1 = 30 on, so R3 meets none.
    await pipe('left', 'L2', 40);
    await pipe('right', 'R3', 29);
    expect(harness.take('out')).toEqual([]);
    expect(harness.late.get('j-right')).toBe(2);
    await harness.close();
  });

  it('names the side whose record the joiner failed on', async () => {
    const app = topology('j');
    app
      .stream('left', text)
      .join(app.stream('right', text), () => { throw new Error('no'); }, joinWindows(5), { name: 'j' })
      .to('out', text);
    const harness = await TaskHarness.create(app, { errors: { retries: 0, onExhausted: 'fail' } });
    await harness.pipe('left', { key: 'a', value: 'L', timestamp: 10 });
    const failed = await harness.pipe('right', { key: 'a', value: 'R', timestamp: 11 }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(StreamrunError);
    expect(failed).toMatchObject({ code: 'PROCESSING', message: 'j-right: no', context: { topic: 'right', node: 'j-right' } });
    await harness.close();
  });

  it('keeps each side in its buffer store and the unmatched records in theirs, all with changelogs', async () => {
    const app = topology('j');
    app
      .stream('left', text)
      .leftJoin(app.stream('right', text), (l, r) => `${l}|${r}`, joinWindows(5), { name: 'j' })
      .to('out', text);
    const harness = await TaskHarness.create(app);
    await harness.pipe('left', { key: 'a', value: 'L', timestamp: 10 });
    await harness.pipe('right', { key: 'b', value: 'R', timestamp: 11 });
    const changes = (topic: string) => harness.take(topic).map((r) => [r.after, r.value?.toString() ?? null]);
    expect(changes('j-j-left-changelog')).toEqual([[0, 'L']]);
    expect(changes('j-j-right-changelog')).toEqual([[1, 'R']]);
    // The unmatched left record, as [side][value].
    expect(changes('j-j-unmatched-changelog')).toEqual([[0, '\u0001L']]);
    await harness.close();
  });
});
