import { describe, expect, it } from 'vitest';
import { connectPostgres, type Database } from '../../../lib/connectors/postgres.ts';
import { waitForCommitted } from '../helpers/kafka.ts';
import { usePipelines, type Pipeline } from '../helpers/pipeline.ts';
import { waitFor } from '../helpers/wait.ts';
import { sendEvents, type LoadEvent, type Target } from './event-load.ts';

const total = 20_000;
const batchSize = 50;
const kills = 3;

/**
 * Four types, one without a reading. The sender stamps each request with the time it is sent, in
 * order; requests in flight reorder events by milliseconds, far inside the 10 s grace: no event
 * is late, every one must count.
 */
function events(): LoadEvent[] {
  return Array.from({ length: total }, (_, i) => {
    const id = `crash-${i}`;
    switch (i % 4) {
      // Whole numbers: sums stay exact in doubles, so the averages compare exactly.
      case 0:
        return { id, type: 'temperature', source: `sensor-${i % 7}`, payload: `${(i % 61) - 20}C` };
      case 1:
        return { id, type: 'humidity', source: `sensor-${i % 7}`, payload: `${i % 100}%` };
      case 2:
        return { id, type: 'power', source: `meter-${i % 3}`, payload: { value: i % 37, unit: 'kW' } };
      default:
        // No reading: counted, but not in numeric_count, min, max or avg.
        return { id, type: 'door', source: `door-${i % 5}`, payload: i % 8 === 3 ? 'open' : 'closed' };
    }
  });
}

interface WindowRow {
  type: string;
  start: string;
  lengthMs: string;
  count: string;
  numericCount: string;
  min: number | null;
  max: number | null;
  avg: number | null;
}

// Epoch milliseconds as text: no time zone or Date conversion between the two sides.
const stored = `SELECT type, (extract(epoch FROM window_start) * 1000)::bigint::text AS start,
    (extract(epoch FROM window_end - window_start) * 1000)::bigint::text AS "lengthMs",
    count::text, numeric_count::text AS "numericCount", min, max, avg
  FROM event_stats ORDER BY type, window_start`;
// The truth from the stored events: 60 s tumbling windows on the epoch are UTC minutes.
const recomputed = `SELECT type, (extract(epoch FROM date_trunc('minute', ts, 'UTC')) * 1000)::bigint::text AS start,
    '60000' AS "lengthMs", count(*)::text AS count, count(value)::text AS "numericCount", min(value) AS min, max(value) AS max, avg(value) AS avg
  FROM events GROUP BY type, date_trunc('minute', ts, 'UTC') ORDER BY type, 2`;

/**
 * Ends a pool and waits until its connections have closed. pg-pool's end() resolves as soon as
 * it asked them to close: the DROP DATABASE … WITH (FORCE) after the test could then terminate
 * one still open, whose error event nobody listens to any more (an unhandled error in vitest).
 */
async function closePool(db: Database): Promise<void> {
  const pool = db.$pool;
  let open = pool.totalCount;
  const closed = new Promise<void>((resolve) => {
    if (open === 0) resolve();
    pool.on('remove', () => {
      if (--open === 0) resolve();
    });
  });
  await pool.end();
  await closed;
}

describe('the event pipeline, SIGKILLed while it takes and processes events', () => {
  const pipelines = usePipelines();

  it(`${total} events over HTTP, ${kills} kills: each acknowledged event stored once, event_stats equal to what the events add up to`, async () => {
    const setup = await pipelines('postgres');
    // A killed member holds its partitions until its session times out: the broker's minimum, 6 s, not 10.
    const guarantee = ['--guarantee', 'exactly-once', '--session-timeout', '6000'];
    // The vitest project says which client; exactly-once needs kafkats, so it is said here too.
    const env = { STREAMRUN_CLIENT: 'kafkats' };
    let current: Pipeline = await setup.start({ env, args: ['--port', '0', ...guarantee] });
    const appId = current.appId;
    const target: Target = {
      url: () => current.url,
      after: (stale) => waitFor(`a pipeline listening elsewhere than ${stale}`, () => current.url !== stale && current.url, { timeoutMs: 120_000 }),
    };

    const all = events();
    const batches = Array.from({ length: total / batchSize }, (_, b) => all.slice(b * batchSize, (b + 1) * batchSize));
    // 400 batches, 100 ms apart: about 40 s of load, longer than the kills take to land.
    const sending = sendEvents(target, batches, { concurrency: 8, paceMs: 100 });
    // Awaited below; should a restart fail first, its rejection must not go unhandled meanwhile.
    sending.catch(() => undefined);

    const began = Date.now();
    const killedAt: number[] = [];
    for (let k = 0; k < kills; k++) {
      // A random moment while it runs: its group joined, its tasks taking records.
      await current.run.waitForOutput(new RegExp(`${appId} running`), 120_000);
      await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 5500));
      killedAt.push(Date.now() - began);
      current.run.child.kill('SIGKILL');
      expect(await current.run.exited).toBe('SIGKILL');
      // Same state dir and database; it listens (takes events) before its group lets it in.
      current = await setup.start({ appId, env, args: ['--port', '0', ...guarantee], until: 'listening' });
    }
    const load = await sending;
    const sentFor = Date.now() - began;
    console.info(
      `killed at ${killedAt.map((t) => `${(t / 1000).toFixed(1)} s`).join(', ')}; load done at ${(sentFor / 1000).toFixed(1)} s: ` +
        `${load.acknowledged.size} acknowledged, ${load.unacknowledged.size} not (statuses ${JSON.stringify([...load.statuses])}: ${JSON.stringify([...load.samples])}), ` +
        `${load.refusedRetries} refused connects sent again`,
    );
    expect(load.acknowledged.size + load.unacknowledged.size).toBe(total);

    await current.run.waitForOutput(new RegExp(`${appId} running`), 120_000);
    await waitForCommitted(appId, [`${setup.prefix}events.raw`], 120_000);
    // It did run transactions: its stop line counts them (and any record it dropped as late).
    expect(await current.stop()).toBe(0);
    const stopped = new RegExp(`${appId} stopped (\\{.*\\})`).exec(current.run.stderr())?.[1];
    const stats = JSON.parse(stopped ?? '{}') as { transactions?: number; lateRecords?: number };
    console.info(`the last run: ${stopped}`);
    expect(stats.transactions).toBeGreaterThan(0);
    expect(stats.lateRecords).toBe(0);

    const db = connectPostgres(setup.databaseUrl, 2);
    try {
      const ids = new Set((await db.any<{ id: string }>('SELECT id FROM events')).map((r) => r.id));
      const missing = [...load.acknowledged].filter((id) => !ids.has(id));
      const unknown = [...ids].filter((id) => !load.acknowledged.has(id) && !load.unacknowledged.has(id));
      const fromUnacknowledged = [...ids].filter((id) => load.unacknowledged.has(id)).length;
      const duplicates = await db.one<{ n: number }>('SELECT (count(*) - count(DISTINCT id))::int AS n FROM events');

      const windows = await db.any<WindowRow>(stored);
      const truth = await db.any<WindowRow>(recomputed);
      console.info(
        `events: ${ids.size} stored (${fromUnacknowledged} of them unacknowledged), ${missing.length} acknowledged missing\n` +
          `event_stats vs recomputed from events:\n` +
          truth
            .map((t) => {
              const w = windows.find((r) => r.type === t.type && r.start === t.start);
              return `  ${t.type} @${new Date(Number(t.start)).toISOString()}: count ${w?.count ?? '-'} / ${t.count}, numeric ${w?.numericCount ?? '-'} / ${t.numericCount}, ` +
                `min ${w?.min ?? '-'} / ${t.min}, max ${w?.max ?? '-'} / ${t.max}, avg ${w?.avg ?? '-'} / ${t.avg}`;
            })
            .join('\n'),
      );
      expect(missing).toEqual([]);
      expect(unknown).toEqual([]);
      expect(duplicates.n).toBe(0);
      // Every type, and every stored event in some window (40 s and more of load: one or two minutes).
      expect(new Set(truth.map((t) => t.type))).toEqual(new Set(['door', 'humidity', 'power', 'temperature']));
      expect(truth.reduce((n, t) => n + Number(t.count), 0)).toBe(ids.size);
      expect(windows).toEqual(truth);
    } finally {
      await closePool(db);
    }
  });
});
