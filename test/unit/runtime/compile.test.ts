import { describe, expect, it } from 'vitest';
import { serdes, session, topology, tumbling, type Topology } from '../../../lib/index.ts';
import { TaskHarness, type HarnessInput } from '../../../lib/testing/task-harness.ts';

/**
 * The compiled graph, operator by operator, through the real Task with memory stores: what each
 * node passes on, and what it does with records that have no key or no value.
 */

const text = { key: serdes.string, value: serdes.string };

async function run(app: Topology, inputs: readonly (HarnessInput & { topic?: string })[], read = 'out') {
  const harness = await TaskHarness.create(app);
  for (const input of inputs) await harness.pipe(input.topic ?? 'in', input);
  const out = harness.take(read).map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null]);
  return { out, harness };
}

const rec = (key: string | null, value: string | null, timestamp = 0): HarnessInput => ({ key, value, timestamp });

describe('compiled operators', () => {
  it('flatMap passes on every key and value the function yields, none for an empty result', async () => {
    const app = topology('c')
      .stream('in', text)
      .flatMap((v, k) => v.split(',').filter(Boolean).map((part, i) => ({ key: `${k}.${i}`, value: part })))
      .to('out', text);
    expect((await run(app, [rec('a', 'x,y'), rec('b', ''), rec('c', 'z')])).out).toEqual([
      ['a.0', 'x'],
      ['a.1', 'y'],
      ['c.0', 'z'],
    ]);
  });

  it('peek sees each record and passes it on unchanged', async () => {
    const seen: string[] = [];
    const app = topology('c')
      .stream('in', text)
      .peek((v, k) => void seen.push(`${k}=${v}`))
      .to('out', text);
    expect((await run(app, [rec('a', '1'), rec('b', '2')])).out).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(seen).toEqual(['a=1', 'b=2']);
  });

  it('branch sends a record to its first matching branch only, and drops one that matches none', async () => {
    const app = topology('c');
    const { small, even } = app.stream('in', text).branch({ small: (v) => Number(v) < 3, even: (v) => Number(v) % 2 === 0 });
    small.to('small', text);
    even.to('even', text);
    const harness = await TaskHarness.create(app);
    for (const v of ['1', '2', '3', '4', '5']) await harness.pipe('in', rec('k', v));
    expect(harness.take('small').map((r) => r.value!.toString())).toEqual(['1', '2']);
    expect(harness.take('even').map((r) => r.value!.toString())).toEqual(['4']);
  });

  it('a node with several children passes each record to all of them, in build order', async () => {
    const app = topology('c');
    const s = app.stream('in', text);
    s.mapValues((v) => `first ${v}`).to('out', text);
    s.mapValues((v) => `second ${v}`).to('out', text);
    expect((await run(app, [rec('k', 'a'), rec('k', 'b')])).out).toEqual([
      ['k', 'first a'],
      ['k', 'second a'],
      ['k', 'first b'],
      ['k', 'second b'],
    ]);
  });

  it('a sink writes a null key as null without its serde, and keeps the bytes a Buffer serde gives', async () => {
    const app = topology('c')
      .stream('in', { key: serdes.string, value: serdes.buffer })
      .to('out', { key: serdes.json<string>(), value: serdes.buffer });
    const harness = await TaskHarness.create(app);
    await harness.pipe('in', { key: null, value: Buffer.from([0, 255]), timestamp: 7 });
    await harness.pipe('in', { key: 'k', value: Buffer.from([1]), timestamp: 8 });
    const out = harness.take('out');
    expect(out.map((r) => [r.key?.toString() ?? null, [...r.value!], r.timestamp])).toEqual([
      [null, [0, 255], 7],
      ['"k"', [1], 8],
    ]);
    expect(out.every((r) => Buffer.isBuffer(r.value))).toBe(true);
  });

  it('a mapValues result of null goes out as a tombstone, not through the value serde', async () => {
    const app = topology('c')
      .stream('in', text)
      .mapValues((v) => (v === 'drop' ? null : v))
      .to('out', { value: serdes.json<string | null>() });
    expect((await run(app, [rec('a', 'keep'), rec('b', 'drop')])).out).toEqual([
      ['a', '"keep"'],
      ['b', null],
    ]);
  });

  it('aggregations skip records without a key: count, reduce, aggregate, windowed and session', async () => {
    const app = topology('c');
    const grouped = app.stream('in', text).groupByKey();
    grouped.count({ name: 'n' }).toStream().to('count', { value: serdes.json<number>() });
    grouped.reduce((a, b) => a + b, { name: 'r' }).toStream().to('reduce', text);
    grouped.aggregate(() => '', (a, v) => a + v, { name: 'a', value: serdes.string }).toStream().to('aggregate', text);
    grouped.windowedBy(tumbling(10)).count({ name: 'w' }).toStream().to('windowed', { value: serdes.json<number>() });
    grouped.windowedBy(session(10)).count({ name: 's' }).toStream().to('session', { value: serdes.json<number | null>() });
    const harness = await TaskHarness.create(app);
    for (const r of [rec(null, 'x', 1), rec('k', 'y', 2), rec(null, 'z', 3)]) await harness.pipe('in', r);
    const values = (topic: string) => harness.take(topic).map((r) => [r.key?.toString() ?? null, r.value?.toString() ?? null]);
    expect(values('count')).toEqual([['k', '1']]);
    expect(values('reduce')).toEqual([['k', 'y']]);
    expect(values('aggregate')).toEqual([['k', 'y']]);
    expect(values('windowed')).toEqual([['{"key":"k","start":0,"end":10}', '1']]);
    expect(values('session')).toEqual([['{"key":"k","start":2,"end":2}', '1']]);
  });

  it('windowed and session aggregations take event time from the timestamp option, not the record', async () => {
    const app = topology('c');
    const grouped = app.stream('in', text).groupByKey();
    const byValue = { timestamp: (v: string) => Number(v) };
    grouped.windowedBy(tumbling(10), byValue).count({ name: 'w' }).toStream().to('windowed', { value: serdes.json<number>() });
    grouped.windowedBy(session(5), byValue).count({ name: 's' }).toStream().to('session', { value: serdes.json<number | null>() });
    const harness = await TaskHarness.create(app);
    await harness.pipe('in', rec('k', '12', 1_000));
    await harness.pipe('in', rec('k', '14', 1));
    expect(harness.take('windowed').map((r) => [r.key!.toString(), r.value!.toString()])).toEqual([
      ['{"key":"k","start":10,"end":20}', '1'],
      ['{"key":"k","start":10,"end":20}', '2'],
    ]);
    expect(harness.take('session').map((r) => [r.key!.toString(), r.value?.toString() ?? null])).toEqual([
      ['{"key":"k","start":12,"end":12}', '1'],
      ['{"key":"k","start":12,"end":12}', null],
      ['{"key":"k","start":12,"end":14}', '2'],
    ]);
  });

  it('a session takes a record exactly gap before its start, and a record after the session closed starts anew', async () => {
    const app = topology('c')
      .stream('in', text)
      .groupByKey()
      .windowedBy(session(10).grace(2))
      .count({ name: 's', emit: 'final' })
      .toStream()
      .to('out', { value: serdes.json<number>() });
    const harness = await TaskHarness.create(app);
    // k@20, then k@10: exactly gap before the session's start, it joins. j@50 closes [10,20]
    // (50 ≥ 20 + 10 + 2). k@41 is more than gap after 20: a session of its own, [41,41], open
    // until 53, so not late; j@60 closes it.
    for (const [k, t] of [['k', 20], ['k', 10], ['j', 50], ['k', 41], ['j', 60]] as const) await harness.pipe('in', rec(k, 'x', t));
    expect(harness.take('out').map((r) => [r.after, r.key!.toString(), r.value!.toString()])).toEqual([
      [2, '{"key":"k","start":10,"end":20}', '2'],
      [4, '{"key":"k","start":41,"end":41}', '1'],
    ]);
    expect([...harness.late]).toEqual([]);
  });

  it('a session record is late only when the session it makes closed before now', async () => {
    const app = topology('c')
      .stream('in', text)
      .groupByKey()
      .windowedBy(session(10).grace(0))
      .count({ name: 's' })
      .toStream()
      .to('out', { value: serdes.json<number | null>() });
    const harness = await TaskHarness.create(app);
    // Stream time 30 (k@30). j@20 makes [20,20], which closes at 20 + 10 = 30 = now: still taken.
    // i@19 makes [19,19], closed at 29 < 30: late.
    for (const [k, t] of [['k', 30], ['j', 20], ['i', 19]] as const) await harness.pipe('in', rec(k, 'x', t));
    expect(harness.take('out').map((r) => [r.key!.toString(), r.value?.toString() ?? null])).toEqual([
      ['{"key":"k","start":30,"end":30}', '1'],
      ['{"key":"j","start":20,"end":20}', '1'],
    ]);
    expect([...harness.late]).toEqual([['s', 1]]);
  });

  it('a table deletes a key on a tombstone and keeps no record without a key; a join sees both', async () => {
    const app = topology('c');
    const table = app.table('table', text, { name: 't' });
    app.stream('in', text).leftJoin(table, (v, t) => `${v}|${t}`).to('out', text);
    const harness = await TaskHarness.create(app);
    await harness.pipe('table', rec('k', 'one'));
    await harness.pipe('table', rec(null, 'keyless'));
    await harness.pipe('in', rec('k', 'a'));
    await harness.pipe('table', rec('k', null));
    await harness.pipe('in', rec('k', 'b'));
    await harness.pipe('in', rec(null, 'c'));
    expect(harness.take('out').map((r) => [r.key?.toString() ?? null, r.value!.toString()])).toEqual([
      ['k', 'a|one'],
      ['k', 'b|null'],
      [null, 'c|null'],
    ]);
    expect(harness.taskOf('in').stores!.get('t').get('k')).toBeUndefined();
  });

  it('an externalSink receives each record once per commit, with its key, value and context', async () => {
    const written: unknown[][] = [];
    const app = topology('c')
      .stream('in', text)
      .sink({ name: 'list', write: async (records) => void written.push(records.map((r) => [r.key, r.value, r.context.offset, r.context.timestamp])) });
    const harness = await TaskHarness.create(app);
    await harness.pipe('in', rec('a', '1', 5));
    await harness.pipe('in', rec(null, '2', 6));
    expect(written).toEqual([[['a', '1', '0', 5]], [[null, '2', '1', 6]]]);
  });
});
