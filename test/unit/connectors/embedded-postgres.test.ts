import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pgPromise from 'pg-promise';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../../lib/connectors/embedded-postgres.ts';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';
import type { LogFields, Logger } from '../../../lib/runtime/logger.ts';

// A fresh data directory runs initdb (seconds); a reopen takes a fraction of that.
const startTimeout = 30_000;

function recordingLogger(): Logger & { lines: { level: string; message: string; fields?: LogFields }[] } {
  const lines: { level: string; message: string; fields?: LogFields }[] = [];
  const keep = (level: string) => (message: string, fields?: LogFields) => {
    lines.push(fields === undefined ? { level, message } : { level, message, fields });
  };
  return { lines, error: keep('error'), warn: keep('warn'), info: keep('info'), debug: keep('debug') };
}

/**
 * pg-promise as callers use it, with the errors it reports outside any query kept for asserts.
 * End each with `db.$pool.end()`: `pgp.end()` ends every pool in the process, not just its own.
 */
function client(url: string, max: number, idleTimeoutMillis?: number) {
  const reported: { code?: string; message: string }[] = [];
  // Warnings off: several pools on one URL is what these tests are about.
  const pgp = pgPromise({ noWarnings: true, error: (error: { code?: string; message: string }) => reported.push(error) });
  const db = pgp(idleTimeoutMillis === undefined ? { connectionString: url, max } : { connectionString: url, max, idleTimeoutMillis });
  return { pgp, db, reported };
}

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'streamrun-embedded-pg-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('startEmbeddedPostgres, one server shared by the tests below', () => {
  let embedded: EmbeddedPostgres;
  let logger: ReturnType<typeof recordingLogger>;
  let main: ReturnType<typeof client>;

  beforeAll(async () => {
    logger = recordingLogger();
    embedded = await startEmbeddedPostgres({ dataDir: join(root, 'shared'), port: 0, logger });
    main = client(embedded.url, embedded.maxConnections);
  }, startTimeout);

  afterAll(async () => {
    // The order a caller uses: its pools first, then the server; neither may keep vitest alive.
    await main.pgp.end();
    await embedded?.close();
  });

  it('serves one connection at a time on a free loopback port', () => {
    expect(embedded.maxConnections).toBe(1);
    expect(embedded.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(logger.lines).toContainEqual({
      level: 'info',
      message: 'embedded postgres listening',
      fields: expect.objectContaining({ url: embedded.url, created: true }),
    });
  });

  it('runs pg-promise code: batched upsert, parameterised selects, transactions, jsonb and timestamptz', async () => {
    const { pgp, db } = main;
    await db.none(`
      CREATE TABLE events (
        id int PRIMARY KEY,
        name text NOT NULL,
        payload jsonb NOT NULL,
        seen_at timestamptz NOT NULL,
        hits int NOT NULL DEFAULT 1
      )`);
    const columns = new pgp.helpers.ColumnSet(
      ['id', 'name', { name: 'payload', mod: ':json', cast: 'jsonb' }, { name: 'seen_at', cast: 'timestamptz' }],
      { table: 'events' },
    );
    const upsert = (rows: object[]) =>
      `${pgp.helpers.insert(rows, columns)} ON CONFLICT (id) DO UPDATE SET ` +
      `${columns.assignColumns({ from: 'EXCLUDED', skip: 'id' })}, hits = events.hits + 1 ` +
      'RETURNING id, (xmax = 0) AS inserted';

    const t1 = new Date('2024-03-01T10:00:00.123Z');
    const t2 = new Date('2024-03-02T23:59:59.999Z');
    const nested = { kind: 'click', tags: ['a', 'ü', '✓'], n: 1.5, big: 2 ** 53 - 1, none: null, deep: { ok: true } };
    const first = await db.many(upsert([
      { id: 1, name: 'one', payload: nested, seen_at: t1 },
      { id: 2, name: "two's", payload: { kind: 'view' }, seen_at: t1 },
      { id: 3, name: 'three', payload: [1, 'x', { y: null }], seen_at: t2 },
    ]));
    expect(first).toEqual([
      { id: 1, inserted: true },
      { id: 2, inserted: true },
      { id: 3, inserted: true },
    ]);
    const second = await db.many(upsert([
      { id: 2, name: 'two again', payload: { kind: 'click' }, seen_at: t2 },
      { id: 4, name: 'four', payload: {}, seen_at: t2 },
    ]));
    expect(second).toEqual([
      { id: 2, inserted: false },
      { id: 4, inserted: true },
    ]);

    expect(await db.any('SELECT * FROM events ORDER BY id')).toEqual([
      { id: 1, name: 'one', payload: nested, seen_at: t1, hits: 1 },
      { id: 2, name: 'two again', payload: { kind: 'click' }, seen_at: t2, hits: 2 },
      { id: 3, name: 'three', payload: [1, 'x', { y: null }], seen_at: t2, hits: 1 },
      { id: 4, name: 'four', payload: {}, seen_at: t2, hits: 1 },
    ]);
    expect(await db.map('SELECT id FROM events WHERE payload->>$1 = $2 ORDER BY id', ['kind', 'click'], (row: { id: number }) => row.id)).toEqual([1, 2]);
    expect(await db.one('SELECT count(*)::int AS n FROM events WHERE seen_at > $<after>', { after: t1 })).toEqual({ n: 3 });
    expect(await db.oneOrNone('SELECT name FROM events WHERE id = $1', [99])).toBeNull();
    expect(await db.one('SELECT payload #>> $1 AS tag FROM events WHERE id = $2', ['{tags,1}', 1])).toEqual({ tag: 'ü' });
    // pg's extended protocol (values sent apart from the text) as well as pg-promise's own formatting.
    expect(await db.one(new pgp.ParameterizedQuery({ text: 'SELECT name FROM events WHERE id = $1', values: [3] }))).toEqual({ name: 'three' });

    const moved = await db.tx(async (t) => {
      await t.none('UPDATE events SET hits = hits + 10 WHERE id = $1', [1]);
      await t.none('DELETE FROM events WHERE id = $1', [4]);
      return t.one('SELECT sum(hits)::int AS total FROM events');
    });
    expect(moved).toEqual({ total: 11 + 2 + 1 });
    await expect(
      db.tx(async (t) => {
        await t.none(`UPDATE events SET name = 'lost'`);
        await t.none('INSERT INTO events (id, name, payload, seen_at) VALUES (1, $1, $2, now())', ['dup', {}]);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await db.map('SELECT name FROM events ORDER BY id', [], (row: { name: string }) => row.name)).toEqual(['one', 'two again', 'three']);

    // now() is the transaction's start and follows the host clock; sessions run in UTC.
    const clock = await db.tx(async (t) => {
      const first = await t.one('SELECT now() AS at');
      await t.one('SELECT pg_sleep(0.02)');
      const later = await t.one(`SELECT now() AS at, clock_timestamp() >= now() + interval '20 ms' AS moved, current_setting('TimeZone') AS tz`);
      return { first, later };
    });
    expect(clock.later.at).toEqual(clock.first.at);
    expect(clock.later.moved).toBe(true);
    expect(Math.abs(clock.first.at.getTime() - Date.now())).toBeLessThan(5_000);
    expect(clock.later.tz).toBe('UTC');
  });

  it('answers 20 parallel queries and transactions through a pool of maxConnections', async () => {
    const { db } = main;
    await db.none('CREATE TABLE counters (name text PRIMARY KEY, n int NOT NULL)');
    await db.none(`INSERT INTO counters VALUES ('c', 0)`);
    const [doubled, counted] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, (_, i) => db.one('SELECT $1::int * 2 AS doubled', [i]))),
      Promise.all(
        Array.from({ length: 20 }, () =>
          db.tx(async (t) => {
            const { n } = await t.one<{ n: number }>(`SELECT n FROM counters WHERE name = 'c'`);
            await t.none(`UPDATE counters SET n = $1 WHERE name = 'c'`, [n + 1]);
            return n + 1;
          }),
        ),
      ),
    ]);
    expect(doubled.map((row) => row.doubled)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect([...counted].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await db.one(`SELECT n FROM counters WHERE name = 'c'`)).toEqual({ n: 20 });
  });

  it('makes a second connection wait its turn, then gives it a clean session', async () => {
    const a = client(embedded.url, 1, 100);
    const b = client(embedded.url, 1);
    const statement = (value: number) => new a.pgp.PreparedStatement({ name: 'same-name', text: 'SELECT $1::int AS v', values: [value] });
    try {
      // The shared pool gives its connection up so that `a` can have the server.
      await main.db.$pool.end();
      main = client(embedded.url, embedded.maxConnections);
      expect(await a.db.one(statement(1))).toEqual({ v: 1 });
      await a.db.none(`SET application_name = 'left-behind'`);
      // `a` keeps its connection until it has been idle 100 ms: only then does `b` get in.
      const waited = performance.now();
      expect(await b.db.one(statement(2))).toEqual({ v: 2 });
      expect(performance.now() - waited).toBeGreaterThanOrEqual(50);
      expect(await b.db.one('SHOW application_name')).toEqual({ application_name: '' });
      expect(a.reported).toEqual([]);
      expect(b.reported).toEqual([]);
    } finally {
      await a.db.$pool.end();
      await b.db.$pool.end();
    }
  });

  it('refuses a second server on a data directory in use', async () => {
    const attempt = startEmbeddedPostgres({ dataDir: join(root, 'shared'), logger: recordingLogger() });
    await expect(attempt).rejects.toBeInstanceOf(StreamrunError);
    await expect(attempt).rejects.toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringContaining('is in use by process') });
  });

  it('runs beside a second server on another data directory, each with its own data', async () => {
    const other = await startEmbeddedPostgres({ dataDir: join(root, 'other'), logger: recordingLogger() });
    const second = client(other.url, other.maxConnections);
    try {
      expect(other.url).not.toBe(embedded.url);
      await second.db.none('CREATE TABLE events (id int PRIMARY KEY, name text)');
      await second.db.none(`INSERT INTO events VALUES (1, 'only here')`);
      await main.db.none(`UPDATE events SET name = 'only there' WHERE id = 1`);
      const [here, there] = await Promise.all([
        second.db.many('SELECT id, name FROM events ORDER BY id'),
        main.db.many('SELECT id, name FROM events ORDER BY id'),
      ]);
      expect(here).toEqual([{ id: 1, name: 'only here' }]);
      expect(there.map((row) => row.id)).toEqual([1, 2, 3]);
      expect(there[0]).toEqual({ id: 1, name: 'only there' });
      expect(await second.db.oneOrNone(`SELECT to_regclass('counters') AS t`)).toEqual({ t: null });
    } finally {
      await second.db.$pool.end();
      await other.close();
    }
  }, startTimeout);
});

describe('startEmbeddedPostgres options', () => {
  it.each([
    [{ port: -1 }, 'port: expected an integer from 0 to 65535, got -1'],
    [{ host: ' ' }, 'host: must not be empty'],
    [{ dataDir: '' }, 'dataDir: must be a directory path'],
    [{ dataDir: 'memory://x' }, 'dataDir: expected a directory path, got memory://x'],
  ])('refuses %j before starting anything', async (bad, message) => {
    const attempt = startEmbeddedPostgres({ dataDir: join(root, 'never'), logger: recordingLogger(), ...bad });
    await expect(attempt).rejects.toMatchObject({ code: 'INVALID_OPTIONS', message: `embedded postgres ${message}` });
  });
});

describe('startEmbeddedPostgres close and reopen', () => {
  it('ends connected clients with 57P01 (not those already leaving), rolls back what was open, keeps what was committed', async () => {
    const dataDir = join(root, 'persist');
    const firstLogger = recordingLogger();
    const first = await startEmbeddedPostgres({ dataDir, logger: firstLogger });
    const c = client(first.url, first.maxConnections);
    await c.db.none('CREATE TABLE kept (id int PRIMARY KEY, doc jsonb, at timestamptz)');
    await c.db.none('INSERT INTO kept VALUES (1, $1, $2), (2, $3, $4)', [{ a: 1 }, new Date(0), { b: [2] }, new Date(1e12)]);

    const held = await c.db.connect();
    await held.none('BEGIN');
    await held.none(`INSERT INTO kept VALUES (3, '{}', now())`);
    const inFlight = held.one('SELECT 1 AS x').then(
      (row) => row.x,
      (error: { code?: string }) => error.code,
    );
    await first.close();
    // The statement either ran before the goodbye or was refused by it; it does not hang.
    expect([1, '57P01']).toContain(await inFlight);
    await expect(held.one('SELECT 1')).rejects.toBeDefined();
    held.done();
    expect(c.reported).toContainEqual(expect.objectContaining({ code: '57P01' }));
    await c.db.$pool.end();
    await first.close();

    const secondLogger = recordingLogger();
    const second = await startEmbeddedPostgres({ dataDir, logger: secondLogger });
    const d = client(second.url, second.maxConnections);
    const idle = client(second.url, second.maxConnections);
    try {
      expect(await d.db.any('SELECT * FROM kept ORDER BY id')).toEqual([
        { id: 1, doc: { a: 1 }, at: new Date(0) },
        { id: 2, doc: { b: [2] }, at: new Date(1e12) },
      ]);
    } finally {
      // Ended right before close(): its Terminate is still on the way when close() starts.
      await d.db.$pool.end();
    }
    // `idle` gets in once `d` has gone, and stays connected in its pool when the server closes.
    expect(await idle.db.one('SELECT count(*)::int AS n FROM kept')).toEqual({ n: 2 });
    await second.close();
    expect(d.reported).toEqual([]);
    expect(idle.reported).toEqual([expect.objectContaining({ code: '57P01' })]);
    await vi.waitFor(() => expect(idle.db.$pool.totalCount).toBe(0));
    await idle.db.$pool.end();

    const started = (lines: typeof firstLogger.lines) => lines.find((line) => line.message === 'embedded postgres listening')?.fields;
    expect(started(firstLogger.lines)).toMatchObject({ created: true });
    expect(started(secondLogger.lines)).toMatchObject({ created: false });
    expect(secondLogger.lines.filter((line) => line.level === 'error' || line.level === 'warn')).toEqual([]);
  }, startTimeout);
});
