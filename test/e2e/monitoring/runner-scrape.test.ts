import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.ts';
import { brokers, produce, waitForCommitted } from '../helpers/kafka.ts';
import { countCommitted } from '../helpers/kcat.ts';
import { dashboardQueries, query, startPrometheus, type Daemon } from '../helpers/monitoring.ts';
import { usePipelines, type Pipeline } from '../helpers/pipeline.ts';
import { parseSamples, sumOf } from '../helpers/prometheus-text.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * Real Prometheus, on the shipped config, scraping the event pipeline's /metrics every second:
 * what it reads back equals what was sent and what the runner reports, and every query of the
 * Grafana dashboard finds data.
 */

/** A series summed in Prometheus (a PromQL query) and in the runner's /metrics (a name and labels), and its true value. */
interface Expected {
  readonly what: string;
  readonly promql: string;
  readonly metric: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/**
 * Waits until Prometheus' answer to every query is its expected value (it scrapes every
 * second); then the runner's own /metrics must say the same.
 */
async function expectScraped(prometheus: Daemon, pipeline: Pipeline, expected: readonly Expected[]): Promise<void> {
  const truth = expected.map((e) => [e.what, e.value]);
  let last: [string, number][] = [];
  await waitFor(
    'Prometheus to scrape the final counts',
    async () => {
      last = await Promise.all(expected.map(async (e) => [e.what, Number((await query(prometheus, e.promql))[0]?.value[1])] as [string, number]));
      return last.every(([, value], i) => value === expected[i]!.value);
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  ).catch(() => expect(last).toEqual(truth));
  const samples = parseSamples(await (await fetch(`${pipeline.url}/metrics`)).text());
  expect(expected.map((e) => [e.what, sumOf(samples, e.metric, e.labels)])).toEqual(truth);
}

describe('Prometheus scraping a runner', () => {
  const pipelines = usePipelines();
  const cleanup = useCleanup();

  it('reads back the exact counts the runner reports, and every dashboard query has data', async () => {
    const setup = await pipelines('pglite');
    const pipeline = await setup.start();
    const app = pipeline.appId;
    const raw = `${setup.prefix}events.raw`;
    const processed = `${setup.prefix}events.processed`;
    const dlq = `${app}-dlq`;
    const prometheus = await startPrometheus({ targets: [new URL(pipeline.url).host] }, cleanup);
    const post = (events: unknown[]) =>
      fetch(`${pipeline.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    const series = (what: string, metric: string, labels: Record<string, string>, value: number, promql = `sum(${metric}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(', ')}})`): Expected => ({
      what,
      promql,
      metric,
      labels,
      value,
    });

    // 40 events over HTTP.
    const now = Date.now();
    const events = Array.from({ length: 40 }, (_, i) => ({ id: `ev-${i}`, type: 'temperature', payload: `${20 + (i % 5)}C`, timestamp: now }));
    expect((await post(events)).status).toBe(202);
    await waitForCommitted(app, [raw]);
    await expectScraped(prometheus, pipeline, [series('records consumed from the input', 'streamrun_records_consumed_total', { app, topic: raw }, 40)]);

    // A batch of 3 refused (no type), 2 records that are not JSON straight into the topic, then
    // an event an hour older than the window's grace allows.
    expect((await post([{ payload: 1 }, { payload: 2 }, { payload: 3 }])).status).toBe(400);
    await produce(raw, [
      { key: 'bad-1', value: 'not json' },
      { key: 'bad-2', value: '{"type":' },
    ]);
    await waitForCommitted(app, [raw]);
    expect((await post([{ id: 'late', type: 'temperature', payload: '10C', timestamp: now - 3_600_000 }])).status).toBe(202);
    await waitForCommitted(app, [raw]);
    await expectScraped(prometheus, pipeline, [
      series('records produced to events.processed', 'streamrun_records_produced_total', { app, topic: processed }, 41),
      series('dead letters written', 'streamrun_dead_letters_total', { app, topic: dlq }, 2),
      series('records failed', 'streamrun_errors_total', { app, node: 'validate' }, 2),
      series('late records', 'streamrun_late_records_total', { app }, 1),
      series('events accepted over HTTP', 'streamrun_ingest_events_total', { app, source: 'http', outcome: 'accepted' }, 41),
      series('events refused over HTTP', 'streamrun_ingest_events_total', { app, source: 'http', outcome: 'refused' }, 3),
      // Every record once, however tried: 40 + 2 + 1.
      series('records consumed from the input', 'streamrun_records_consumed_total', { app, topic: raw }, 43),
      // Records, as kcat reads them committed (the offsets count transaction markers too).
      series('dead letters held, by the recording rule', 'streamrun_dlq_records', { app, topic: dlq }, await countCommitted(brokers(), dlq), `app:streamrun_dlq_records:sum{app="${app}"}`),
    ]);

    // Every panel's every query, on this application.
    const queries = await dashboardQueries(app);
    let empty: string[] = [];
    await waitFor(
      'data for every dashboard query',
      async () => {
        const counts = await Promise.all(queries.map(async (q) => (await query(prometheus, q.expr)).length));
        empty = queries.filter((_, i) => counts[i] === 0).map((q) => `${q.panel}: ${q.expr}`);
        return empty.length === 0;
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    ).catch(() => expect(empty).toEqual([]));
  });
});
