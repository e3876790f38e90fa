import { describe, expect, it } from 'vitest';
import { hopping, serdes, sliding, topology } from '../../lib/index.ts';
import { createTopic, produce, uniqueName, waitForLatest } from './helpers/kafka.ts';
import { getJson } from './helpers/http.ts';
import { useRunners } from './helpers/runners.ts';
import { countsOf, keyedRecords } from './helpers/topologies.ts';


describe('stores over HTTP', () => {
  const startRunner = useRunners();

  it('serve for each key the value the output topic holds, ranges of keys, and window ranges by time', async () => {
    const input = uniqueName('query-in');
    const output = uniqueName('query-out');
    await createTopic(input, 3);
    const app = topology(uniqueName('query'));
    const grouped = app.stream(input, { key: serdes.string, value: serdes.string }).groupByKey();
    grouped.count({ name: 'counts' }).toStream().to(output, { value: serdes.json<number>() });
    grouped.windowedBy(hopping(20_000, 10_000)).count({ name: 'windowed' });
    grouped.windowedBy(sliding(10_000).grace(60_000)).count({ name: 'sliding' });
    const runner = await startRunner(app, { port: 0 });
    const url = runner.httpUrl!;

    // Times relative to a recent multiple of 20 s: a topic's retention would delete records from 1970.
    const base = Math.floor(Date.now() / 20_000) * 20_000 - 60_000;
    const records = keyedRecords(600, 12).map((r, i) => ({ ...r, timestamp: String(base + (i < 300 ? 5_000 : 15_000)) }));
    await produce(input, records);
    const truth = countsOf(records);
    const latest = await waitForLatest(output, truth);
    expect(latest).toEqual(truth);

    for (const [key, count] of truth) {
      expect(await getJson(`${url}/stores/counts/${key}`)).toEqual({ status: 200, body: { store: 'counts', key, value: Number(count) } });
    }
    expect((await getJson(`${url}/stores/counts/no-such-key`)).status).toBe(404);
    expect((await getJson(`${url}/stores/nope/key-1`)).status).toBe(404);

    const range = await getJson(`${url}/stores/counts?from=key-10&to=key-3&limit=1000`);
    expect(range.body['entries']).toEqual(
      ['key-10', 'key-11', 'key-2', 'key-3'].map((key) => ({ key, value: Number(truth.get(key)) })),
    );

    // Records at base + 5 s fall in [base - 10 s, base + 10 s) and [base, base + 20 s); at base + 15 s in [base, base + 20 s) and [base + 10 s, base + 30 s).
    type Entry = { key: { key: string; start: number; end: number }; value: number };
    /** Per key, the records whose timestamps fall in [start, start + 20 s), from the input itself. */
    const windowOf = (start: number): Entry[] =>
      [...truth.keys()].sort().map((key) => ({
        key: { key, start: base + start, end: base + start + 20_000 },
        value: records.filter((r) => r.key === key && Number(r.timestamp) >= base + start && Number(r.timestamp) < base + start + 20_000).length,
      }));
    const byKey = (entries: Entry[]) => [...entries].sort((a, b) => (a.key.key < b.key.key ? -1 : 1));
    const windows = await getJson(`${url}/stores/windowed?from=${base + 10_000}&to=${base + 10_000}&limit=1000`);
    expect(byKey(windows.body['entries'] as Entry[])).toEqual(windowOf(10_000));
    expect(windowOf(10_000).map((e) => e.value)).toEqual(Array.from({ length: 12 }, () => 25));
    // The windows starting at base and base + 10 s, by start time.
    const all = (await getJson(`${url}/stores/windowed?from=${base}&to=${base + 10_000}&limit=1000`)).body['entries'] as Entry[];
    expect(all.map((e) => e.key.start)).toEqual([...windowOf(0), ...windowOf(10_000)].map((e) => e.key.start));
    expect(byKey(all.filter((e) => e.key.start === base))).toEqual(windowOf(0));
    expect(windowOf(0).map((e) => e.value)).toEqual(Array.from({ length: 12 }, () => 50));
    // The one before held only records at base + 5 s, and closed when stream time reached its
    // end (base + 10 s, no grace): deleted, queries see open windows only.
    expect(windowOf(-10_000).map((e) => e.value)).toEqual(Array.from({ length: 12 }, () => 25));
    expect(await getJson(`${url}/stores/windowed?from=${base - 10_000}&to=${base - 10_000}&limit=1000`)).toEqual({
      status: 200,
      body: { store: 'windowed', entries: [] },
    });

    // Sliding windows by start time: per key, [5 s, 15 s] holds both halves (its ends are
    // inclusive), and [5.001 s, 15.001 s], made for the records after those at 5 s, the second.
    const halves = (from: number, to: number) => countsOf(records.slice(from, to));
    const [first, second] = [halves(0, 300), halves(300, 600)];
    const slides = await getJson(`${url}/stores/sliding?from=${base + 5_000}&to=${base + 5_001}&limit=1000`);
    expect(slides.status).toBe(200);
    const slid = (slides.body['entries'] as Entry[]).map((e) => `${e.key.key}[${e.key.start - base},${e.key.end - base}]=${e.value}`);
    const keys = [...first.keys()].sort();
    expect(slid).toEqual([
      ...keys.map((k) => `${k}[5000,15000]=${Number(first.get(k)) + Number(second.get(k))}`),
      ...keys.map((k) => `${k}[5001,15001]=${second.get(k)}`),
    ]);

    expect(await getJson(`${url}/health`)).toEqual({
      status: 200,
      body: { status: 'ok', appId: app.appId, tasks: ['0_0', '0_1', '0_2'], checks: { kafka: 'ok' } },
    });
  });
});
