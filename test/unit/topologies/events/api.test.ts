import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../../lib/connectors/postgres.ts';
import { serdes, topology } from '../../../../lib/index.ts';
import type { Logger } from '../../../../lib/runtime/logger.ts';
import { dashboardRoutes } from '../../../../lib/server/dashboard-routes.ts';
import { startHttpServer, type HttpServer } from '../../../../lib/server/http-server.ts';
import { eventsApi } from '../../../../topologies/events/api.ts';
import type { Event } from '../../../../topologies/events/event.ts';
import { runtimeMetrics } from '../../metrics/runtime-metrics.ts';

const quiet: Logger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

/** The API over a database that fails every query the way PostgreSQL would, and a recording publish. */
async function api(token?: string) {
  const published: Event[][] = [];
  const ingested: [string, number][] = [];
  const failing = async () => {
    throw new Error('invalid byte sequence for encoding "UTF8": 0x00');
  };
  const db = { any: failing, oneOrNone: failing } as unknown as Database;
  const { metrics } = runtimeMetrics();
  const relay = topology('events');
  relay.stream('in', { key: serdes.string, value: serdes.string }).to('out');
  const server = await startHttpServer({
    port: 0,
    logger: quiet,
    queries: { stores: () => ['counts'], get: async () => 1, range: async () => [] },
    health: () => ({ status: 'ok', appId: 'events', tasks: [] }),
    metrics,
    routes: [
      eventsApi({ db: () => db, publish: async (events) => void published.push([...events]), deadLetters: async () => 0, ingested: (outcome, n) => void ingested.push([outcome, n]), token }),
      // As the runner adds them: after the topology's routes.
      dashboardRoutes({ metrics, topology: relay.describe() }),
    ],
  });
  servers.push(server);
  return { server, published, ingested };
}
const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const answer = async (response: Response) => [response.status, (await response.json()) as Record<string, unknown>] as const;
const post = (server: HttpServer, body: string) =>
  fetch(`${server.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('the events API', () => {
  it('refuses a body nested deeper than 64 before parsing it, and any batch with an event PostgreSQL cannot store', async () => {
    const { server, published, ingested } = await api();
    const deep = `[{"type":"t","payload":${'['.repeat(10_000)}${']'.repeat(10_000)}}]`;
    expect(await answer(await post(server, deep))).toEqual([400, { error: 'bad_request', message: 'body: nested deeper than 64 levels', field: 'body' }]);
    expect(await answer(await post(server, '[{"type":"ok"},{"type":"a\\u0000b"}]'))).toEqual([
      400,
      { error: 'bad_request', message: '[1].type: contains a NUL character (U+0000), which PostgreSQL cannot store', field: '[1].type' },
    ]);
    expect(await answer(await post(server, '{"type":"t","payload":{"v":1e400}}'))).toEqual([400, { error: 'bad_request', message: 'payload.v: a number out of range', field: 'payload.v' }]);
    expect(await answer(await post(server, '{"type":'))).toEqual([400, expect.objectContaining({ error: 'bad_request', field: 'body' })]);
    expect(published).toEqual([]);
    expect((await post(server, JSON.stringify({ type: 't', payload: 'x'.repeat(2 * 1024 * 1024) }))).status).toBe(413);
    // Each refused request counts its events, or one when its body never parsed.
    expect(ingested).toEqual([['refused', 1], ['refused', 2], ['refused', 1], ['refused', 1], ['refused', 1]]);
    expect((await post(server, '[{"type":"a"},{"type":"b"}]')).status).toBe(202);
    expect(ingested.at(-1)).toEqual(['accepted', 2]);
  });

  it('answers 500 with a request id and no database text when a query fails', async () => {
    const { server } = await api();
    const [status, body] = await answer(await fetch(`${server.url}/events/some-id`));
    expect([status, body]).toEqual([500, { error: 'internal', message: `internal error; the server log has it under request id ${String(body['requestId'])}`, requestId: expect.any(String) }]);
  });

  it('wants the token on every route but /, /health, /metrics, /dashboard and /docs, /stores included', async () => {
    const { server } = await api('s3cret');
    for (const path of ['/events', '/events/stats', '/events/x', '/stores', '/stores/counts/a']) {
      expect(await answer(await fetch(`${server.url}${path}`))).toEqual([401, { error: 'unauthorized', message: 'expected Authorization: Bearer <STREAMRUN_API_TOKEN>' }]);
    }
    const withToken = { headers: { authorization: 'Bearer s3cret' } };
    expect(await answer(await fetch(`${server.url}/stores/counts/a`, withToken))).toEqual([200, { store: 'counts', key: 'a', value: 1 }]);
    for (const path of ['/', '/health', '/metrics', '/dashboard', '/dashboard/snapshot', '/docs/json']) {
      expect([path, (await fetch(`${server.url}${path}`)).status]).toEqual([path, 200]);
    }
    // Open paths are whole segments: a path that only begins like one still wants the token.
    expect((await fetch(`${server.url}/dashboards`)).status).toBe(401);
  });

  it("links the dashboard and the API's docs from GET /", async () => {
    const { server } = await api();
    const links = [...(await (await fetch(`${server.url}/`)).text()).matchAll(/<a href="([^"]+)">/g)].map((m) => m[1]);
    expect(links).toEqual(['dashboard', 'metrics', 'health', 'stores', 'docs']);
  });

  it('answers 405 with Allow for a known path and another method', async () => {
    const { server } = await api();
    const response = await fetch(`${server.url}/events/stats`, { method: 'DELETE' });
    expect([response.status, response.headers.get('allow'), await response.json()]).toEqual([
      405,
      'GET, HEAD',
      { error: 'method_not_allowed', message: 'DELETE is not allowed on /events/stats; allowed: GET, HEAD' },
    ]);
    expect((await fetch(`${server.url}/events`, { method: 'PUT' })).headers.get('allow')).toBe('GET, HEAD, POST');
  });
});
