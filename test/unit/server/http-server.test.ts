import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';
import type { LogFields, Logger } from '../../../lib/runtime/logger.ts';
import { startHttpServer, type HttpServer } from '../../../lib/server/http-server.ts';
import type { HealthReport, StoreQueries } from '../../../lib/server/store-queries.ts';

type Entry = { key: unknown; value: unknown };

/**
 * Two stores in memory: `words` keyed by text, `counts` keyed by numbers, whose "serde" rejects
 * key text that is not a number. A key `explode` makes `get` fail the way a broken store would.
 */
function fakeQueries(): StoreQueries & { ranges: { store: string; query: object }[] } {
  const words = new Map<string, unknown>([
    ['apple', 3],
    ['a/b c', 'slash and space'],
    ['bytes', Buffer.from('hi')],
    ['big', 12345678901234567890n],
    ['nothing', null],
  ]);
  for (let i = 0; i < 150; i++) words.set(`w${String(i).padStart(3, '0')}`, i);
  const counts = new Map<number, unknown>([[1, 'one'], [2, 'two']]);
  const ranges: { store: string; query: object }[] = [];

  const parseCountKey = (text: string): number => {
    const key = Number(text);
    if (!Number.isFinite(key)) throw new StreamrunError('INVALID_OPTIONS', `key "${text}" is not a number`);
    return key;
  };

  return {
    ranges,
    stores: () => ['counts', 'words'],
    get: async (store, key, origin) => {
      if (key === 'explode') throw new Error('disk on fire');
      if (key === 'elsewhere') throw new StreamrunError('UNAVAILABLE', 'the instance at http://b did not answer');
      if (key === 'origin') return origin;
      return store === 'counts' ? counts.get(parseCountKey(key)) : words.get(key);
    },
    range: async (store, query) => {
      ranges.push({ store, query });
      const entries: Entry[] =
        store === 'counts'
          ? [...counts].map(([key, value]) => ({ key, value }))
          : [...words].map(([key, value]) => ({ key, value }));
      return entries
        .filter(({ key }) => (query.from === undefined || String(key) >= query.from) && (query.to === undefined || String(key) <= query.to))
        .sort((a, b) => (String(a.key) < String(b.key) ? -1 : 1))
        .slice(0, query.limit);
    },
  };
}

function recordingLogger(): Logger & { lines: { level: string; message: string; fields?: LogFields }[] } {
  const lines: { level: string; message: string; fields?: LogFields }[] = [];
  const keep = (level: string) => (message: string, fields?: LogFields) => {
    lines.push(fields === undefined ? { level, message } : { level, message, fields });
  };
  return { lines, error: keep('error'), warn: keep('warn'), info: keep('info'), debug: keep('debug') };
}

async function get(server: HttpServer, path: string): Promise<{ status: number; type: string | null; body: unknown }> {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
}

describe('startHttpServer', () => {
  let server: HttpServer;
  let queries: ReturnType<typeof fakeQueries>;
  let logger: ReturnType<typeof recordingLogger>;
  let health: HealthReport;

  beforeEach(async () => {
    queries = fakeQueries();
    logger = recordingLogger();
    health = { status: 'ok', appId: 'wordcount', tasks: ['0_0', '0_1'] };
    server = await startHttpServer({ port: 0, queries, health: () => health, logger });
  });

  afterEach(async () => {
    await server.close();
  });

  it('listens on loopback by default, on the port it reports', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(logger.lines).toContainEqual({ level: 'info', message: 'http server listening', fields: { url: server.url } });
  });

  describe('GET /health', () => {
    it('is 200 with the report when ok', async () => {
      expect(await get(server, '/health')).toEqual({
        status: 200,
        type: 'application/json; charset=utf-8',
        body: { status: 'ok', appId: 'wordcount', tasks: ['0_0', '0_1'] },
      });
    });

    it.each(['starting', 'stopping'] as const)('is 503 with the same body while %s', async (status) => {
      health = { status, appId: 'wordcount', tasks: [] };
      expect(await get(server, '/health')).toMatchObject({ status: 503, body: { status, appId: 'wordcount', tasks: [] } });
    });
  });

  it('GET /stores lists the stores', async () => {
    expect(await get(server, '/stores')).toMatchObject({ status: 200, body: { stores: ['counts', 'words'] } });
  });

  describe('GET /stores/:store/:key', () => {
    it('is 200 with the value', async () => {
      expect(await get(server, '/stores/words/apple')).toEqual({
        status: 200,
        type: 'application/json; charset=utf-8',
        body: { store: 'words', key: 'apple', value: 3 },
      });
      expect(await get(server, '/stores/counts/2')).toMatchObject({ status: 200, body: { store: 'counts', key: '2', value: 'two' } });
    });

    it('decodes the key from the URL', async () => {
      expect(await get(server, `/stores/words/${encodeURIComponent('a/b c')}`)).toMatchObject({
        status: 200,
        body: { store: 'words', key: 'a/b c', value: 'slash and space' },
      });
    });

    it('writes bytes as base64, bigints as text and keeps null', async () => {
      expect((await get(server, '/stores/words/bytes')).body).toEqual({ store: 'words', key: 'bytes', value: 'aGk=' });
      expect((await get(server, '/stores/words/big')).body).toEqual({ store: 'words', key: 'big', value: '12345678901234567890' });
      expect(await get(server, '/stores/words/nothing')).toMatchObject({ status: 200, body: { value: null } });
    });

    it('is 404 when the key has no value', async () => {
      expect(await get(server, '/stores/words/pear')).toEqual({
        status: 404,
        type: 'application/json; charset=utf-8',
        body: { error: 'not_found', message: 'No value for key "pear" in store "words" on this instance' },
      });
    });

    it('is 404 naming the known stores when the store is unknown', async () => {
      expect(await get(server, '/stores/nope/apple')).toMatchObject({
        status: 404,
        body: { error: 'not_found', message: 'No store "nope" on this instance; known stores: "counts", "words"' },
      });
    });

    it('is 400 when the key serde cannot read the key', async () => {
      expect(await get(server, '/stores/counts/abc')).toMatchObject({
        status: 400,
        body: { error: 'bad_request', message: 'key "abc" is not a number' },
      });
    });

    it('is 400 in the same shape for an empty key or a malformed URL', async () => {
      expect(await get(server, '/stores/words/')).toEqual({
        status: 400,
        type: 'application/json; charset=utf-8',
        body: { error: 'bad_request', message: 'params/key must NOT have fewer than 1 characters', field: 'key' },
      });
      expect(await get(server, '/stores/words/%E0%A4%A')).toMatchObject({
        status: 400,
        body: { error: 'bad_request', message: "'/stores/words/%E0%A4%A' is not a valid url component" },
      });
    });

    it('takes keys far longer than the router default of 100 characters', async () => {
      expect(await get(server, `/stores/words/${'k'.repeat(500)}`)).toMatchObject({ status: 404 });
    });

    it("is 500 without the error's text when the store fails, and logs the error under the request id it answers", async () => {
      const { status, body } = await get(server, '/stores/words/explode');
      const requestId = (body as { requestId: string }).requestId;
      expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect([status, body]).toEqual([500, { error: 'internal', message: `internal error; the server log has it under request id ${requestId}`, requestId }]);
      const logged = logger.lines.find((line) => line.level === 'error');
      expect(logged).toMatchObject({ message: 'http request failed', fields: { requestId, method: 'GET', url: '/stores/words/explode' } });
      expect((logged?.fields?.['error'] as Error).message).toBe('disk on fire');
    });
  });

  describe('a query another instance must answer', () => {
    it('is 503 with Retry-After when that instance cannot be asked now', async () => {
      const response = await fetch(`${server.url}/stores/words/elsewhere`);
      expect([response.status, response.headers.get('retry-after'), await response.json()]).toEqual([
        503,
        '1',
        { error: 'unavailable', message: 'the instance at http://b did not answer' },
      ]);
    });

    it('tells the queries whether another instance forwarded it, and the client’s Authorization', async () => {
      const forwarded = await fetch(`${server.url}/stores/words/origin`, { headers: { 'streamrun-forwarded': '1', authorization: 'Bearer t' } });
      expect((await forwarded.json()) as unknown).toMatchObject({ value: { forwarded: true, authorization: 'Bearer t' } });
      expect(await get(server, '/stores/words/origin')).toMatchObject({ body: { value: { forwarded: false } } });
    });
  });

  describe('GET /stores/:store (range)', () => {
    it('is 200 with the entries, at most 100 by default', async () => {
      const { status, body } = await get(server, '/stores/words');
      expect(status).toBe(200);
      expect(body).toMatchObject({ store: 'words' });
      expect((body as { entries: Entry[] }).entries).toHaveLength(100);
      expect(queries.ranges).toEqual([{ store: 'words', query: { limit: 100 } }]);
    });

    it('passes from, to and limit through', async () => {
      expect(await get(server, '/stores/words?from=w010&to=w099&limit=2')).toEqual({
        status: 200,
        type: 'application/json; charset=utf-8',
        body: { store: 'words', entries: [{ key: 'w010', value: 10 }, { key: 'w011', value: 11 }] },
      });
      expect(queries.ranges).toEqual([{ store: 'words', query: { from: 'w010', to: 'w099', limit: 2 } }]);
    });

    it('accepts a limit of 1000', async () => {
      expect((await get(server, '/stores/counts?limit=1000')).body).toEqual({
        store: 'counts',
        entries: [{ key: 1, value: 'one' }, { key: 2, value: 'two' }],
      });
    });

    it.each([
      ['1001', 'querystring/limit must be <= 1000'],
      ['0', 'querystring/limit must be >= 1'],
      ['2.5', 'querystring/limit must be integer'],
      ['ten', 'querystring/limit must be integer'],
    ])('is 400 naming limit for limit=%s', async (limit, message) => {
      expect(await get(server, `/stores/words?limit=${limit}`)).toEqual({
        status: 400,
        type: 'application/json; charset=utf-8',
        body: { error: 'bad_request', message, field: 'limit' },
      });
      expect(queries.ranges).toEqual([]);
    });

    it('is 404 when the store is unknown', async () => {
      expect(await get(server, '/stores/nope?limit=5')).toMatchObject({
        status: 404,
        body: { error: 'not_found', message: 'No store "nope" on this instance; known stores: "counts", "words"' },
      });
    });
  });

  it('is 404 JSON for an unknown route', async () => {
    expect(await get(server, '/metrics')).toEqual({
      status: 404,
      type: 'application/json; charset=utf-8',
      body: { error: 'not_found', message: 'No route for GET /metrics' },
    });
    const response = await fetch(`${server.url}/nothing/here?x=1`, { method: 'DELETE' });
    expect([response.status, await response.json()]).toEqual([404, { error: 'not_found', message: 'No route for DELETE /nothing/here?x=1' }]);
  });

  it.each([
    ['DELETE', '/stores'],
    ['POST', '/stores/words?limit=3'],
    ['PUT', '/stores/words/apple'],
    ['POST', '/health'],
  ])('is 405 JSON with Allow for %s %s, a known path', async (method, url) => {
    const response = await fetch(`${server.url}${url}`, { method });
    const path = url.split('?')[0];
    expect([response.status, response.headers.get('allow'), await response.json()]).toEqual([
      405,
      'GET, HEAD',
      { error: 'method_not_allowed', message: `${method} is not allowed on ${path}; allowed: GET, HEAD` },
    ]);
  });

  it('is 405, not a body error, for a known path and another method with an empty JSON body', async () => {
    const response = await fetch(`${server.url}/stores`, { method: 'DELETE', headers: { 'content-type': 'application/json' } });
    expect([response.status, response.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const unknown = await fetch(`${server.url}/nothing`, { method: 'DELETE', headers: { 'content-type': 'application/json' } });
    expect([unknown.status, await unknown.json()]).toEqual([404, { error: 'not_found', message: 'No route for DELETE /nothing' }]);
  });

  it("is 503 with Retry-After when a route's publish finds Kafka unreachable", async () => {
    const unreachable = new StreamrunError('BROKER_UNREACHABLE', 'Kafka did not acknowledge 1 record(s) for t within 5000 ms', { retriable: true });
    const ingest = await startHttpServer({
      port: 0,
      queries,
      health: () => health,
      logger,
      routes: [(app) => void app.post('/ingest', async () => Promise.reject(unreachable))],
    });
    try {
      const response = await fetch(`${ingest.url}/ingest`, { method: 'POST' });
      expect([response.status, response.headers.get('retry-after'), await response.json()]).toEqual([
        503,
        '5',
        { error: 'unavailable', message: 'Kafka did not acknowledge 1 record(s) for t within 5000 ms' },
      ]);
      expect(logger.lines.map((l) => [l.level, l.message])).toContainEqual(['warn', 'http request: unavailable']);
    } finally {
      await ingest.close();
    }
  });

  it('logs each request at debug level', async () => {
    await get(server, '/stores/words/pear');
    expect(logger.lines).toContainEqual({
      level: 'debug',
      message: 'http request',
      fields: { method: 'GET', url: '/stores/words/pear', status: 404, ms: expect.any(Number) },
    });
  });

  it('close() frees the port', async () => {
    const { port } = server;
    await get(server, '/health'); // leaves a keep-alive connection behind
    await server.close();
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    await new Promise<void>((resolve, reject) => {
      const probe = createServer().once('error', reject);
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
    });
  });
});

describe('startHttpServer options', () => {
  const base = { queries: fakeQueries(), health: (): HealthReport => ({ status: 'ok', appId: 'a', tasks: [] }), logger: recordingLogger() };

  it('rejects a port it cannot use, with INVALID_OPTIONS', async () => {
    await expect(startHttpServer({ ...base, port: 70_000 })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: 'http port: expected an integer from 0 to 65535, got 70000',
    });
    const first = await startHttpServer({ ...base, port: 0 });
    try {
      await expect(startHttpServer({ ...base, port: first.port })).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        message: expect.stringContaining(`http server: cannot listen on 127.0.0.1:${first.port}: `),
      });
    } finally {
      await first.close();
    }
  });

  it('gives a loopback url for a wildcard host', async () => {
    const server = await startHttpServer({ ...base, port: 0, host: '0.0.0.0' });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect((await get(server, '/health')).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
