import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { serdes, topology, tumbling } from '../../lib/index.ts';
import { repoRoot } from './helpers/cli.ts';
import { createTopic, openProducer, uniqueName } from './helpers/kafka.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

/** What dashboard.js keeps on `window.streamrunDashboard.series`. */
interface Series {
  readonly time: number[];
  readonly consumedPerSecond: (number | null)[];
  readonly producedPerSecond: (number | null)[];
  readonly p50: (number | null)[];
  readonly p99: (number | null)[];
  readonly dlqRecords: number[];
  readonly lagByPartition: Record<string, (number | null)[]>;
}

const partitions = 3;
/** Enough polls with data for the charts to draw lines, not dots (and for the screenshot to show them). */
const points = 5;
const positive = (values: readonly (number | null)[]) => values.filter((v) => v !== null && v > 0).length >= points;

describe('GET /dashboard in headless Chromium', () => {
  const startRunner = useRunners();
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('draws the graph describe() gives and charts non-zero throughput, latency and DLQ size while records flow', async () => {
    const input = uniqueName('dash-readings');
    await createTopic(input, partitions);
    // Two sub-topologies: the re-keying groupBy repartitions, so the graph has two columns.
    const app = topology(uniqueName('dash'));
    app
      .stream(input, { key: serdes.string, value: serdes.string }, { name: 'readings' })
      .mapValues(
        (v) => {
          if (v === 'poison') throw new Error('not a reading');
          return v;
        },
        { name: 'parse' },
      )
      .groupBy((v) => v.split(':')[0]!, { key: serdes.string })
      .windowedBy(tumbling(1000))
      .count({ name: 'per-second' })
      .toStream()
      .mapValues(String, { name: 'as-text' })
      .to(`${input}-counts`, { key: serdes.json(), value: serdes.string }, { name: 'counts-out' });
    const runner = await startRunner(app, { port: 0, errors: { retries: 0 } });

    // Every 100 ms a batch of ten readings, one of them poison, until the test is done.
    const producer = await openProducer();
    let producing = true;
    const flow = (async () => {
      for (let batch = 0; producing; batch++) {
        const messages = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: i === 0 ? 'poison' : `sensor-${i % 4}:${batch}` }));
        await producer.send(input, messages);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    try {
      browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      // As a user would come: the index links the dashboard.
      await page.goto(`${runner.httpUrl}/`);
      await page.getByRole('link', { name: 'dashboard' }).click();
      await page.waitForURL(`${runner.httpUrl}/dashboard`);

      const series = await waitFor(
        'the charts to hold non-zero throughput, latency and DLQ size, and lag of every partition, the repartition topic\'s too',
        async () => {
          const s = (await page.evaluate('window.streamrunDashboard.series')) as Series;
          const seen = {
            consumed: positive(s.consumedPerSecond),
            produced: positive(s.producedPerSecond),
            p50: positive(s.p50),
            p99: positive(s.p99),
            dlq: positive(s.dlqRecords),
            lagSeries: Object.keys(s.lagByPartition).length,
          };
          if (Object.values(seen).every((v) => v === true || v === 2 * partitions)) return s;
          // Thrown, so a timeout says what was still missing.
          throw new Error(`so far ${JSON.stringify(seen)}`);
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      const repartition = `${runner.appId}-per-second-repartition`;
      expect(Object.keys(series.lagByPartition).sort()).toEqual([input, repartition].flatMap((topic) => [0, 1, 2].map((p) => `${topic}-${p}`)).sort());
      expect(series.time.length).toBeGreaterThan(1);

      const svg = page.locator('#topology svg');
      expect(await svg.locator('.column-title').allTextContents()).toEqual(['Sub-topology 0', 'Sub-topology 1']);
      expect(await svg.locator('.node-name').allTextContents()).toEqual([
        'readings',
        'parse',
        'map-2',
        'per-second-repartition-sink',
        'per-second-repartition-source',
        'per-second',
        'as-text',
        'counts-out',
      ]);
      expect(await svg.locator('.node[data-name="readings"] .node-detail').textContent()).toBe(`source ← ${input}`);
      expect(await svg.locator('.node[data-name="per-second"] .node-detail').textContent()).toBe('windowedAggregate · store per-second');
      // Within the columns, one edge per parent-child pair; across them, the repartition topic.
      expect(await svg.locator('path.edge:not(.topic)').count()).toBe(6);
      expect(await svg.locator('path.edge.topic').count()).toBe(1);
      expect(await page.locator('#chart-throughput .u-title').textContent()).toBe('Throughput (records/s)');
      expect(errors).toEqual([]);

      const screenshots = join(repoRoot, 'test-output');
      await mkdir(screenshots, { recursive: true });
      await page.screenshot({ path: join(screenshots, 'dashboard.png'), fullPage: true });
    } finally {
      producing = false;
      await flow;
      await producer.close();
    }
  });
});
