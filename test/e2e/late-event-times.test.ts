import { expect, it } from 'vitest';
import { connectPostgres } from '../../lib/connectors/postgres.ts';
import { waitForCommitted } from './helpers/kafka.ts';
import { usePipelines } from './helpers/pipeline.ts';

const pipelines = usePipelines();

it('in-order events whose time lags their ingest by more than the grace (10 s) are all in the window stats', async () => {
  const setup = await pipelines('postgres');
  const p = await setup.start();
  // Event times from 70 s to 60 s ago, in order, 10 ms apart; 20 POSTs of 50, one after the other,
  // so the upstream task commits (and sends its watermark, at ingest time) between them.
  const first = Date.now() - 70_000;
  const events = Array.from({ length: 1_000 }, (_, i) => ({ id: `x-${i}`, type: `t${i % 3}`, timestamp: first + i * 10, payload: i }));
  for (let b = 0; b < 20; b++) {
    const response = await fetch(`${p.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(events.slice(b * 50, b * 50 + 50)),
    });
    expect(response.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  await waitForCommitted(p.appId, [`${setup.prefix}events.raw`, `${p.appId}-type-windows-repartition`]);

  // The truth, from the data: each event in the minute window its own time falls in.
  const truth = new Map<string, { type: string; start: number; count: number; min: number; max: number }>();
  for (const e of events) {
    const start = Math.floor(e.timestamp / 60_000) * 60_000;
    const row = truth.get(`${e.type}@${start}`) ?? { type: e.type, start, count: 0, min: e.payload, max: e.payload };
    truth.set(`${e.type}@${start}`, { ...row, count: row.count + 1, min: Math.min(row.min, e.payload), max: Math.max(row.max, e.payload) });
  }
  const db = connectPostgres(setup.databaseUrl, 1);
  try {
    expect(await db.one<{ n: number }>('SELECT count(*)::int AS n FROM events')).toEqual({ n: 1_000 });
    const rows = await db.any<{ type: string; window_start: Date; count: number; min: number; max: number }>(
      'SELECT type, window_start, count::int AS count, min, max FROM event_stats ORDER BY type, window_start',
    );
    expect(rows.map((r) => ({ type: r.type, start: r.window_start.getTime(), count: r.count, min: r.min, max: r.max }))).toEqual(
      [...truth.values()].sort((a, b) => a.type.localeCompare(b.type) || a.start - b.start),
    );
  } finally {
    await db.$pool.end();
  }
});
