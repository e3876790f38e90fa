import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { TopologyDescription } from '../graph/describe.ts';
import type { Metrics } from '../metrics/instruments.ts';
import { SnapshotReader } from '../metrics/snapshot.ts';
import type { HttpRoutes } from '../runtime/setup.ts';

export interface DashboardOptions {
  readonly metrics: Metrics;
  /** What the page draws: the graph as it runs (internal topics under the runner's app id). */
  readonly topology: TopologyDescription;
}

const require = createRequire(import.meta.url);

/** The page and what it loads; uPlot comes from the installed package, so it needs no build step and no CDN. */
const files: readonly { path: string; file: string | URL; type: string }[] = [
  { path: '/dashboard', file: new URL('./dashboard/dashboard.html', import.meta.url), type: 'text/html; charset=utf-8' },
  { path: '/dashboard/dashboard.js', file: new URL('./dashboard/dashboard.js', import.meta.url), type: 'text/javascript; charset=utf-8' },
  { path: '/dashboard/uplot.js', file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  { path: '/dashboard/uplot.css', file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
];

/**
 * The live dashboard on the runner's port, for those without Prometheus and Grafana:
 * `GET /dashboard` (the page), `/dashboard/topology` (describe()'s data) and
 * `/dashboard/snapshot` (the numbers, which the page polls). Also `GET /`, a page of links,
 * unless the topology's own routes took it: register these after them.
 *
 * @example
 * await startHttpServer({ ...options, metrics, routes: [...topologyRoutes, dashboardRoutes({ metrics, topology })] });
 */
export function dashboardRoutes({ metrics, topology }: DashboardOptions): HttpRoutes {
  const snapshots = new SnapshotReader(metrics.registry, topology.appId);
  return async (server) => {
    for (const { path, file, type } of files) {
      const body = await readFile(file);
      server.get(path, async (_request, reply) => reply.type(type).send(body));
    }
    // The page loads its files relative to /dashboard, which a trailing slash would shift.
    server.get('/dashboard/', async (_request, reply) => reply.redirect('../dashboard'));
    server.get('/dashboard/topology', async () => topology);
    server.get('/dashboard/snapshot', async () => snapshots.read());
    if (!server.hasRoute({ method: 'GET', url: '/' })) {
      const page = indexPage(topology.appId, server.hasRoute({ method: 'GET', url: '/docs' }));
      server.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
    }
  };
}

function indexPage(appId: string, docs: boolean): string {
  const links: [string, string][] = [
    ['dashboard', 'Live dashboard: topology, throughput, latency, lag, dead letters'],
    ['metrics', 'Prometheus metrics'],
    ['health', 'Health'],
    ['stores', 'State stores'],
    ...(docs ? [['docs', 'API documentation'] as [string, string]] : []),
  ];
  const items = links.map(([href, text]) => `<li><a href="${href}">${text}</a> <code>/${href}</code></li>`).join('\n');
  // App ids are letters, digits, '.', '_' and '-': nothing to escape.
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>streamrun: ${appId}</title></head>
<body style="font-family: system-ui, sans-serif; margin: 2rem"><h1>streamrun: ${appId}</h1>
<ul>
${items}
</ul></body></html>
`;
}
