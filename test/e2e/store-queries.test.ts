import { describe, expect, it } from 'vitest';
import { hopping, serdes, topology } from '../../lib/index.ts';
import { createTopic, produce, uniqueName, waitForLatest } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
import { countsOf, keyedRecords } from './helpers/topologies.ts';

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

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
    const runner = await startRunner(app, { port: 0 });
    const url = runner.httpUrl!;

    const records = keyedRecords(600, 12).map((r, i) => ({ ...r, timestamp: String(i < 300 ? 5_000 : 15_000) }));
    await produce(input, records);
    const truth = countsOf(records);
    const latest = await waitForLatest(output, truth);
    expect(latest).toEqual(truth);

    for (const [key, count] of latest) {
      expect(await getJson(`${url}/stores/counts/${key}`)).toEqual({ status: 200, body: { store: 'counts', key, value: Number(count) } });
    }
    expect((await getJson(`${url}/stores/counts/no-such-key`)).status).toBe(404);
    expect((await getJson(`${url}/stores/nope/key-1`)).status).toBe(404);

    const range = await getJson(`${url}/stores/counts?from=key-10&to=key-3&limit=1000`);
    expect(range.body['entries']).toEqual(
      ['key-10', 'key-11', 'key-2', 'key-3'].map((key) => ({ key, value: Number(truth.get(key)) })),
    );

    // Records at 5 s fall in [-10 s, 10 s) → only [0, 10 s)... and [0, 20 s); at 15 s in [0, 20 s) and [10 s, 30 s).
    const windows = await getJson(`${url}/stores/windowed?from=10000&to=10000&limit=1000`);
    const entries = windows.body['entries'] as { key: { key: string; start: number; end: number }; value: number }[];
    expect(entries).toHaveLength(12);
    for (const e of entries) expect(e).toEqual({ key: { key: e.key.key, start: 10_000, end: 30_000 }, value: 25 });

    expect(await getJson(`${url}/health`)).toEqual({
      status: 200,
      body: { status: 'ok', appId: app.appId, tasks: ['0_0', '0_1', '0_2'], checks: { kafka: 'ok' } },
    });
  });
});
