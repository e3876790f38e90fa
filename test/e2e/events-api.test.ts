import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../../lib/connectors/postgres.ts';
import { usePipelines, type Pipeline } from './helpers/pipeline.ts';
import { postgresUrl } from './helpers/postgres.ts';
import { tcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';
import { waitFor } from './helpers/wait.ts';
import type { EventView, TypeStats, WindowStats } from '../../topologies/events/queries.ts';

const json = async <T>(response: Response): Promise<T> => (await response.json()) as T;
interface Stats {
  totals: TypeStats[];
  windows: WindowStats[];
  deadLetters: number;
}
const statsOf = async (p: Pipeline, path = '/events/stats') => json<Stats>(await fetch(`${p.url}${path}`));
const list = async (p: Pipeline, query: string) => {
  const page = await json<{ events: EventView[]; next: string | null }>(await fetch(`${p.url}/events?limit=1000${query}`));
  expect(page.next).toBeNull();
  return page.events.map((e) => e.id);
};

/** Databases and state dirs the tests made, dropped after the file even when a test fails. */
const databases: string[] = [];
const stateDirs: string[] = [];
afterAll(async () => {
  await Promise.all(stateDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  const admin = connectPostgres(postgresUrl(), 1);
  try {
    for (const url of databases) await admin.none(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
  } finally {
    await admin.$pool.end();
  }
});

describe('the event pipeline API', () => {
  const pipelines = usePipelines();

  it('GET /events filters by type, source, from and to, newest first; /events/all is /events/stats; event_stats windows exact', async () => {
    const setup = await pipelines('postgres');
    databases.push(setup.databaseUrl);
    stateDirs.push(setup.stateDir);
    const p = await setup.start();
    // An hour ago, on a minute boundary: 40 events over the first minute, 10 in the first 5 s
    // of the next. The newest event time is 65 s in, before the first window's end + grace
    // (70 s), so however the partitions interleave no event is late.
    const t0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
    const types = ['temperature', 'humidity', 'door'] as const;
    const events = [
      ...Array.from({ length: 40 }, (_, i) => ({ i, time: t0 + i * 1500 })),
      ...Array.from({ length: 10 }, (_, j) => ({ i: 40 + j, time: t0 + 60_000 + j * 500 })),
    ].map(({ i, time }) => {
      const type = types[i % 3]!;
      const payload = type === 'temperature' ? `${(i * 7) % 31}C` : type === 'humidity' ? `${(i * 13) % 97}%` : 'open';
      return { id: `ev-${String(i).padStart(2, '0')}`, type, source: `sensor-${i % 4}`, timestamp: new Date(time).toISOString(), payload };
    });
    const posted = await fetch(`${p.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
    // The ids of the events in order: here each had its own, so none was assigned.
    expect([posted.status, await posted.json()]).toEqual([202, { ids: events.map((e) => e.id) }]);

    const value = (e: (typeof events)[number]) => (e.type === 'door' ? null : Number.parseFloat(e.payload));
    // The expected windows, from the events alone: per type and minute of event time.
    const expectedWindows = [...new Set(events.map((e) => `${e.type}|${Math.floor(Date.parse(e.timestamp) / 60_000) * 60_000}`))]
      .map((id) => {
        const [type, start] = [id.split('|')[0]!, Number(id.split('|')[1])];
        const inWindow = events.filter((e) => e.type === type && Date.parse(e.timestamp) >= start && Date.parse(e.timestamp) < start + 60_000);
        const values = inWindow.map(value).filter((v): v is number => v !== null);
        return {
          type,
          start: new Date(start).toISOString(),
          end: new Date(start + 60_000).toISOString(),
          count: inWindow.length,
          numericCount: values.length,
          min: values.length ? Math.min(...values) : null,
          max: values.length ? Math.max(...values) : null,
          avg: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null,
        };
      })
      .sort((a, b) => b.start.localeCompare(a.start) || a.type.localeCompare(b.type));
    expect(expectedWindows).toHaveLength(6);
    expect(expectedWindows.reduce((n, w) => n + w.count, 0)).toBe(50);

    let stats: Stats | undefined;
    await waitFor('every event counted in its window', async () => {
      stats = await statsOf(p);
      return stats.windows.reduce((n, w) => n + w.count, 0) === 50 && stats.totals.reduce((n, t) => n + t.count, 0) === 50;
    }, { timeoutMs: 90_000 });
    expect(stats!.windows).toEqual(expectedWindows);
    expect(stats!.deadLetters).toBe(0);

    const all = await statsOf(p, '/events/all');
    // Everything but what moves with the clock between the two requests.
    const withoutRate = (s: Stats) => ({ windows: s.windows, deadLetters: s.deadLetters, totals: s.totals.map(({ ratePerSecond: _, ...t }) => t) });
    expect(withoutRate(all)).toEqual(withoutRate(stats!));

    // Newest first: by event time, then id, both descending.
    const newestFirst = (selected: typeof events) =>
      [...selected].sort((a, b) => b.timestamp.localeCompare(a.timestamp) || b.id.localeCompare(a.id)).map((e) => e.id);
    expect(await list(p, '')).toEqual(newestFirst(events));
    expect(await list(p, '&type=humidity')).toEqual(newestFirst(events.filter((e) => e.type === 'humidity')));
    expect(await list(p, '&source=sensor-2')).toEqual(newestFirst(events.filter((e) => e.source === 'sensor-2')));
    const from = t0 + 30_000;
    const to = t0 + 61_000;
    const inRange = (e: (typeof events)[number]) => Date.parse(e.timestamp) >= from && Date.parse(e.timestamp) < to;
    // `from` inclusive, `to` exclusive, as ISO-8601 or ms.
    expect(await list(p, `&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`)).toEqual(newestFirst(events.filter(inRange)));
    expect(await list(p, `&from=${from}&to=${to}`)).toEqual(newestFirst(events.filter(inRange)));
    expect(await list(p, `&type=temperature&source=sensor-1&from=${from}`)).toEqual(
      newestFirst(events.filter((e) => e.type === 'temperature' && e.source === 'sensor-1' && Date.parse(e.timestamp) >= from)),
    );
    expect(await list(p, '&type=nothing')).toEqual([]);
  });

  it('/health answers 503 naming PostgreSQL while it is unreachable, and 200 once it is back', async () => {
    const setup = await pipelines('postgres');
    databases.push(setup.databaseUrl);
    stateDirs.push(setup.stateDir);
    const proxy: TcpProxy = await tcpProxy(Number(new URL(postgresUrl()).port || 5432));
    try {
      const viaProxy = new URL(setup.databaseUrl);
      viaProxy.port = String(proxy.port);
      const p = await setup.start({ env: { DATABASE_URL: viaProxy.toString() } });
      const healthy = await fetch(`${p.url}/health`);
      expect([healthy.status, await healthy.json()]).toEqual([
        200,
        { status: 'ok', appId: p.appId, tasks: expect.any(Array), checks: { kafka: 'ok', postgres: 'ok' } },
      ]);

      await proxy.close();
      const down = await fetch(`${p.url}/health`);
      const body = await json<{ status: string; checks: Record<string, string> }>(down);
      expect([down.status, body.status, body.checks['kafka']]).toEqual([503, 'degraded', 'ok']);
      expect(body.checks['postgres']).toMatch(/ECONNREFUSED|terminated|Connection/i);

      await proxy.open();
      await waitFor('PostgreSQL reachable again', async () => (await fetch(`${p.url}/health`)).status === 200);
      expect(await p.stop()).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('creates the schema on a fresh database, and a restart on it runs no step again and keeps the rows', async () => {
    const setup = await pipelines('postgres');
    databases.push(setup.databaseUrl);
    stateDirs.push(setup.stateDir);
    const db = connectPostgres(setup.databaseUrl, 1);
    try {
      const first = await setup.start();
      expect(first.run.stderr()).toMatch(/INFO  events schema ready \{"version":1,/);
      const versions = () => db.any<{ version: number }>('SELECT version FROM events_schema ORDER BY version');
      expect(await versions()).toEqual([{ version: 1 }]);
      await fetch(`${first.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ id: 'kept', type: 'x' }]) });
      await waitFor('the event stored', async () => (await db.one<{ n: number }>('SELECT count(*)::int AS n FROM events')).n === 1);
      const appliedAt = (await db.one<{ applied_at: Date }>('SELECT applied_at FROM events_schema')).applied_at.toISOString();
      expect(await first.stop()).toBe(0);

      const second = await setup.start({ appId: first.appId });
      expect(second.run.stderr()).toMatch(/INFO  events schema ready \{"version":1,/);
      expect(await versions()).toEqual([{ version: 1 }]);
      expect((await db.one<{ applied_at: Date }>('SELECT applied_at FROM events_schema')).applied_at.toISOString()).toBe(appliedAt);
      expect((await json<EventView>(await fetch(`${second.url}/events/kept`))).type).toBe('x');
      const tables = await db.any<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      expect(tables.map((t) => t.table_name)).toEqual(['event_stats', 'events', 'events_schema']);
    } finally {
      await db.$pool.end();
    }
  });

  it('two instances starting together on one fresh database both run, and each schema step runs once', async () => {
    const setup = await pipelines('postgres');
    databases.push(setup.databaseUrl);
    stateDirs.push(setup.stateDir);
    const appId = `${setup.prefix}events`;
    // Each instance has a state dir of its own: under exactly-once one would hold the lock on it.
    const otherStateDir = `${setup.stateDir}-b`;
    stateDirs.push(otherStateDir);
    const [a, b] = await Promise.all([setup.start({ appId }), setup.start({ appId, args: ['--port', '0', '--state-dir', otherStateDir] })]);
    for (const p of [a, b]) expect(p.run.stderr()).toMatch(/INFO  events schema ready \{"version":1,/);
    const db = connectPostgres(setup.databaseUrl, 1);
    try {
      expect(await db.any('SELECT version FROM events_schema ORDER BY version')).toEqual([{ version: 1 }]);
    } finally {
      await db.$pool.end();
    }
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  });
});
