import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { serdes, topology, tumbling } from '../../../lib/index.ts';
import type { HttpRoutes } from '../../../lib/runtime/setup.ts';
import { dashboardRoutes } from '../../../lib/server/dashboard-routes.ts';
import { startHttpServer, type HttpServer } from '../../../lib/server/http-server.ts';
import { runtimeMetrics } from '../metrics/runtime-metrics.ts';

const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

const app = topology('counting');
app
  .stream('clicks', { key: serdes.string, value: serdes.string }, { name: 'clicks' })
  .groupByKey()
  .windowedBy(tumbling(60_000))
  .count({ name: 'per-minute' })
  .toStream()
  .to('click-counts', { key: serdes.json(), value: serdes.json() }, { name: 'counts-out' });

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(routes: readonly HttpRoutes[] = []) {
  const { metrics, counters } = runtimeMetrics();
  const server = await startHttpServer({
    port: 0,
    logger: quiet,
    queries: { stores: () => [], get: async () => undefined, range: async () => [] },
    health: () => ({ status: 'ok', appId: 'counting', tasks: [] }),
    metrics,
    routes: [...routes, dashboardRoutes({ metrics, topology: app.describe() })],
  });
  servers.push(server);
  return { url: server.url, counters };
}

const uplot = (file: string) => readFile(createRequire(import.meta.url).resolve(`uplot/dist/${file}`), 'utf8');

describe('the dashboard routes', () => {
  it("serve the page, uPlot from its package, describe()'s data and the snapshot", async () => {
    const { url, counters } = await serve();
    const page = await fetch(`${url}/dashboard`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(await page.text()).toContain('<script type="module" src="dashboard/dashboard.js"></script>');
    const script = await fetch(`${url}/dashboard/dashboard.js`);
    expect([script.status, script.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect(await script.text()).toContain('window.streamrunDashboard = dashboard;');
    const js = await fetch(`${url}/dashboard/uplot.js`);
    expect([js.headers.get('content-type'), await js.text()]).toEqual(['text/javascript; charset=utf-8', await uplot('uPlot.iife.min.js')]);
    const css = await fetch(`${url}/dashboard/uplot.css`);
    expect([css.headers.get('content-type'), await css.text()]).toEqual(['text/css; charset=utf-8', await uplot('uPlot.min.css')]);

    const described = (await (await fetch(`${url}/dashboard/topology`)).json()) as { subtopologies: { nodes: { name: string }[] }[] };
    expect(described).toEqual(JSON.parse(JSON.stringify(app.describe())));
    expect(described.subtopologies.map((sub) => sub.nodes.map((n) => n.name))).toEqual([['clicks', 'per-minute', 'counts-out']]);

    counters.addConsumed('clicks', 0, 12);
    const snapshot = (await (await fetch(`${url}/dashboard/snapshot`)).json()) as Record<string, unknown>;
    expect(snapshot).toMatchObject({ appId: 'counting', consumed: 12, produced: 0, lagTotal: 0, recent: null });

    const slash = await fetch(`${url}/dashboard/`, { redirect: 'manual' });
    expect([slash.status, slash.headers.get('location')]).toEqual([302, '../dashboard']);
  });

  it('answer GET / with links to the dashboard and the rest, unless the topology took it', async () => {
    const { url } = await serve();
    const index = await fetch(`${url}/`);
    expect([index.status, index.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    const links = [...(await index.text()).matchAll(/<a href="([^"]+)">/g)].map((m) => m[1]);
    expect(links).toEqual(['dashboard', 'metrics', 'health', 'stores']);

    const own = await serve([(server) => void server.get('/', async () => 'the topology’s own')]);
    expect(await (await fetch(`${own.url}/`)).text()).toBe('the topology’s own');
    expect((await fetch(`${own.url}/dashboard`)).status).toBe(200);
  });
});
