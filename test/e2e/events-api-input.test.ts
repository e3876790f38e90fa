import { describe, expect, it } from 'vitest';
import { usePipelines } from './helpers/pipeline.ts';
import { waitFor } from './helpers/wait.ts';
import type { EventView } from '../../topologies/events/queries.ts';

const token = 's3cret';
const auth = { authorization: `Bearer ${token}` };
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const dates = 'expected an ISO 8601 date with a zone (2026-12-01T12:00:00Z) or ms since the epoch, from 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z';
const nul = 'contains a NUL character (U+0000), which PostgreSQL cannot store';
const badCursor = { error: 'bad_request', message: 'cursor: not a cursor this API gave out', field: 'cursor' };
const bad = (field: string, message: string) => ({ error: 'bad_request', message: `${field}: ${message}`, field });

/** Requests that once answered 500 with PostgreSQL's text, a stack overflow, 404 or 200; each with its exact answer now. */
const badRequests: [string, RequestInit, number, unknown][] = [
  ['/events/abc%00def', {}, 400, bad('id', nul)],
  ['/events?type=a%00b', {}, 400, bad('type', nul)],
  ['/events?limit=1e400', {}, 400, bad('limit', 'expected an integer from 1 to 1000')],
  ['/events?limit=0', {}, 400, bad('limit', 'expected an integer from 1 to 1000')],
  ['/events?limit=1001', {}, 400, bad('limit', 'expected an integer from 1 to 1000')],
  ['/events?type=a&type=b', {}, 400, { error: 'bad_request', message: 'querystring/type must be string', field: 'type' }],
  ['/events?from=99999999999999999999', {}, 400, bad('from', dates)],
  ['/events?to=8640000000000001', {}, 400, bad('to', dates)],
  ['/events?from=-271821-04-20T00:00:00Z', {}, 400, bad('from', dates)],
  ['/events?from=0000-12-31T00:00:00Z', {}, 400, bad('from', dates)],
  ['/events?from=2026-02-30', {}, 400, bad('from', dates)],
  ['/events?from=yesterday', {}, 400, bad('from', dates)],
  ['/events?to=2026-12-01T12:00:00', {}, 400, bad('to', dates)],
  ['/events?from=2026-12-02&to=2026-12-01', {}, 400, bad('to', 'is earlier than from (2026-12-02T00:00:00.000Z)')],
  [`/events?cursor=${cursorOf(['+275760-09-13T00:00:00.001Z', 'x'])}`, {}, 400, badCursor],
  [`/events?cursor=${cursorOf(['-271821-04-20T00:00:00.000Z', 'x'])}`, {}, 400, badCursor],
  [`/events?cursor=${cursorOf(['2026-12-01T00:00:00.000Z', 'a\u0000b'])}`, {}, 400, badCursor],
  [`/events?cursor=${cursorOf([99999999999999999999, 'x'])}`, {}, 400, badCursor],
  ['/events?eventType=a%00b', { method: 'POST' }, 400, bad('type', nul)],
  ['/events', { method: 'POST', body: `[{"type":"t","payload":${'['.repeat(10_000)}${']'.repeat(10_000)}}]` }, 400, bad('body', 'nested deeper than 64 levels')],
  ['/events', { method: 'POST', body: '{"type":"t","payload":{"a\\u0000":1}}' }, 400, bad('payload', `a key ${nul}`)],
  ['/events', { method: 'POST', body: '{"type":"t","payload":[1e400]}' }, 400, bad('payload[0]', 'a number out of range')],
  ['/events', { method: 'POST', body: '{"type":"t","source":"\\ud800"}' }, 400, bad('source', 'contains a lone surrogate, which is not Unicode text')],
  ['/events/stats', { method: 'DELETE' }, 405, { error: 'method_not_allowed', message: 'DELETE is not allowed on /events/stats; allowed: GET, HEAD' }],
  ['/events/x', { method: 'POST' }, 405, { error: 'method_not_allowed', message: 'POST is not allowed on /events/x; allowed: GET, HEAD' }],
  ['/events', { method: 'PUT' }, 405, { error: 'method_not_allowed', message: 'PUT is not allowed on /events; allowed: GET, HEAD, POST' }],
  ['/stores', { method: 'POST' }, 405, { error: 'method_not_allowed', message: 'POST is not allowed on /stores; allowed: GET, HEAD' }],
  ['/nothing', {}, 404, { error: 'not_found', message: 'No route for GET /nothing' }],
];

describe('the event pipeline API refuses bad input with a 4xx naming the field', () => {
  const pipelines = usePipelines();

  it('answers each bad request exactly, wants the token on /stores, and a batch refused for one event stores none of it', async () => {
    const setup = await pipelines('postgres');
    const p = await setup.start({ env: { STREAMRUN_API_TOKEN: token } });
    const send = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${p.url}${path}`, { ...init, headers: { ...auth, 'content-type': 'application/json', ...init.headers } });
      return { status: response.status, allow: response.headers.get('allow'), body: (await response.json()) as unknown };
    };

    for (const [path, init, status, body] of badRequests) {
      const allow = status === 405 ? (body as { message: string }).message.split('allowed: ')[1] : null;
      expect({ request: `${init.method ?? 'GET'} ${path.slice(0, 80)}`, ...(await send(path, init)) }).toEqual({ request: `${init.method ?? 'GET'} ${path.slice(0, 80)}`, status, allow, body });
    }

    // The token guards the runner's own store routes too; /health stays open.
    const unauthorized = { error: 'unauthorized', message: 'expected Authorization: Bearer <STREAMRUN_API_TOKEN>' };
    for (const path of ['/stores', '/stores/type-windows', '/stores/type-windows/x', '/events', '/events/stats']) {
      const response = await fetch(`${p.url}${path}`);
      expect([path, response.status, await response.json()]).toEqual([path, 401, unauthorized]);
    }
    expect((await send('/stores')).status).toBe(200);
    expect((await fetch(`${p.url}/health`)).status).toBe(200);

    // 20 valid events and one with a NUL: the batch is refused whole, naming the event.
    const refused = Array.from({ length: 21 }, (_, i) => ({ id: `refused-${i}`, type: i === 13 ? 'a\u0000b' : 'ok' }));
    expect(await send('/events', { method: 'POST', body: JSON.stringify(refused) })).toEqual({ status: 400, allow: null, body: bad('[13].type', nul) });

    // The sink is not wedged: 100 events posted afterwards are all stored, and only they.
    const t0 = Date.parse('2026-12-01T12:00:00.000Z');
    const events = Array.from({ length: 100 }, (_, i) => ({
      id: `ev-${String(i).padStart(3, '0')}`,
      type: ['temperature', 'humidity'][i % 2]!,
      source: `sensor-${i % 3}`,
      timestamp: t0 + i * 1000,
      payload: `${i}C`,
    }));
    expect(await send('/events', { method: 'POST', body: JSON.stringify(events) })).toEqual({ status: 202, allow: null, body: { ids: events.map((e) => e.id) } });
    const stored = await waitFor('the 100 events stored', async () => {
      const page = (await send('/events?limit=1000')).body as { events: EventView[]; next: string | null };
      return page.events.length >= 100 && page;
    });
    expect(stored.next).toBeNull();
    expect(stored.events.map(({ ingestedAt: _i, processedAt: _p, lagMs: _l, ...e }) => e)).toEqual(
      [...events].reverse().map((e) => ({ ...e, timestamp: new Date(e.timestamp).toISOString(), value: Number.parseFloat(e.payload), unit: 'C' })),
    );
    expect(await p.stop()).toBe(0);
  });
});
