import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { connectPostgres } from '../../lib/connectors/postgres.ts';
import { repoRoot } from './helpers/cli.ts';
import { useCleanup } from './helpers/cleanup.ts';
import { brokers, produce, readAllSettled, uniqueName, waitForCommitted } from './helpers/kafka.ts';
import { freshDatabase, usePipelines, type Pipeline } from './helpers/pipeline.ts';
import { dropDatabase } from './helpers/postgres.ts';
import { reservePorts } from './setup/ports.ts';
import { waitFor } from './helpers/wait.ts';
import type { EventView, TypeStats as Totals } from '../../topologies/events/queries.ts';

const json = async <T>(response: Response): Promise<T> => (await response.json()) as T;
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const stats = async (p: Pipeline) => json<{ totals: Totals[]; deadLetters: number; windows: unknown[] }>(await fetch(`${p.url}/events/stats`));
const stored = async (p: Pipeline) => (await stats(p)).totals.reduce((n, t) => n + t.count, 0);

/** Every page of GET /events, followed by its cursor. */
async function walk(p: Pipeline, limit: number, query = ''): Promise<EventView[]> {
  const events: EventView[] = [];
  let cursor: string | null = null;
  do {
    const page: { events: EventView[]; next: string | null } = await json(
      await fetch(`${p.url}/events?limit=${limit}${query}${cursor === null ? '' : `&cursor=${cursor}`}`),
    );
    events.push(...page.events);
    cursor = page.next;
  } while (cursor !== null);
  return events;
}

/** Runs `work` over `items`, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

describe.each(['postgres', 'pglite'] as const)('the event pipeline on %s', (backend) => {
  const pipelines = usePipelines();

  it('HTTP → Kafka → topology → database → API: 5,000 events, each retrievable once, pages and stats exact', async () => {
    const setup = await pipelines(backend);
    const p = await setup.start();
    const types = ['temperature', 'humidity', 'door'] as const;
    const events = Array.from({ length: 5000 }, (_, i) => {
      const type = types[i % 3]!;
      const payload = type === 'temperature' ? `${(i % 400) / 10 - 10}C` : type === 'humidity' ? `${i % 100}%` : i % 2 ? 'open' : 'closed';
      return { type, payload, source: `sensor-${i % 17}` };
    });
    const ids: string[] = [];
    await inParallel(Array.from({ length: 10 }, (_, b) => b), 4, async (b) => {
      const response = await post(p.url, events.slice(b * 500, b * 500 + 500));
      expect(response.status).toBe(202);
      ids.push(...(await json<{ ids: string[] }>(response)).ids);
    });
    expect(new Set(ids).size).toBe(5000);

    await waitFor('5,000 stored events', async () => (await stored(p)) === 5000, { timeoutMs: 90_000 });
    const missing: string[] = [];
    await inParallel(ids, 20, async (id) => {
      const response = await fetch(`${p.url}/events/${id}`);
      if (response.status !== 200 || (await json<EventView>(response)).id !== id) missing.push(id);
    });
    expect(missing).toEqual([]);

    const pages = await walk(p, 333);
    expect(pages).toHaveLength(5000);
    expect(new Set(pages.map((e) => e.id))).toEqual(new Set(ids));
    expect(await walk(p, 1000, '&type=door')).toHaveLength(Math.floor((5000 + 0) / 3));

    const truth = types.map((type) => {
      const values = events.filter((e) => e.type === type && type !== 'door').map((e) => Number.parseFloat(e.payload));
      return {
        type,
        count: events.filter((e) => e.type === type).length,
        numericCount: values.length,
        min: values.length ? Math.min(...values) : null,
        max: values.length ? Math.max(...values) : null,
      };
    });
    const totals = (await stats(p)).totals;
    expect(totals.map(({ type, count, numericCount, min, max }) => ({ type, count, numericCount, min, max }))).toEqual(
      [...truth].sort((a, b) => a.type.localeCompare(b.type)),
    );
    const avg = (type: string) => {
      const values = events.filter((e) => e.type === type).map((e) => Number.parseFloat(e.payload));
      return values.reduce((a, b) => a + b, 0) / values.length;
    };
    expect(totals.find((t) => t.type === 'temperature')!.avg).toBeCloseTo(avg('temperature'), 9);
    expect(totals.find((t) => t.type === 'humidity')!.avg).toBeCloseTo(avg('humidity'), 9);
    expect(await p.stop()).toBe(0);
  });

  it('invalid events: 400 or 413 with a JSON body at HTTP; straight into Kafka they go to the DLQ and the stats count them', async () => {
    const setup = await pipelines(backend);
    const p = await setup.start();
    const cases: [unknown, string][] = [
      [{ payload: 1 }, 'type'],
      [{ type: '' }, 'type'],
      [{ type: 'x', timestamp: 'yesterday' }, 'timestamp'],
      [[{ type: 'ok' }, { type: 7 }], '[1].type'],
      ['just text', 'event'],
    ];
    for (const [body, field] of cases) {
      const response = await post(p.url, body);
      expect([response.status, await response.json()]).toEqual([400, expect.objectContaining({ error: 'bad_request', field })]);
    }
    const tooMany = await post(p.url, Array.from({ length: 1001 }, () => ({ type: 'x' })));
    expect(tooMany.status).toBe(400);
    const tooBig = await post(p.url, { type: 'x', payload: 'x'.repeat(1024 * 1024) });
    expect([tooBig.status, (await json<{ error: string }>(tooBig)).error]).toEqual([413, 'payload_too_large']);
    const notJson = await fetch(`${p.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
    expect(notJson.status).toBe(400);

    await produce(`${setup.prefix}events.raw`, [
      { key: 'a', value: 'not json at all' },
      { key: 'b', value: JSON.stringify({ payload: '30C' }) },
      { key: 'c', value: JSON.stringify({ type: 'ok', payload: '1C' }) },
      { key: 'd', value: JSON.stringify({ type: 'x', timestamp: -5 }) },
    ]);
    const letters = await readAllSettled(`${p.appId}-dlq`, { group: p.appId, inputs: [`${setup.prefix}events.raw`] });
    expect(letters.map((r) => [r.key, String(r.headers?.['streamrun.node']), String(r.headers?.['streamrun.error.class']), String(r.headers?.['streamrun.attempts'])]).sort()).toEqual([
      ['a', 'validate', 'ValidationError', '1'],
      ['b', 'validate', 'ValidationError', '1'],
      ['d', 'validate', 'ValidationError', '1'],
    ]);
    await waitFor('the valid one', async () => (await stored(p)) === 1);
    expect((await stats(p)).deadLetters).toBe(3);
    const stored404 = await fetch(`${p.url}/events/no-such-id`);
    expect([stored404.status, await stored404.json()]).toEqual([404, { error: 'not_found', message: 'no event with id "no-such-id"' }]);
    const badCursor = await fetch(`${p.url}/events?cursor=garbage`);
    expect([badCursor.status, (await json<{ field: string }>(badCursor)).field]).toEqual([400, 'cursor']);
    expect((await fetch(`${p.url}/events?limit=1001`)).status).toBe(400);
  });
});

describe('the event pipeline', () => {
  const pipelines = usePipelines();

  it('replaying the same input (a new consumer group from the beginning) leaves the row count unchanged', async () => {
    const setup = await pipelines('postgres');
    const first = await setup.start();
    const ids = (await json<{ ids: string[] }>(await post(first.url, Array.from({ length: 800 }, (_, i) => ({ type: 't', payload: i }))))).ids;
    await produce(`${setup.prefix}events.raw`, Array.from({ length: 200 }, (_, i) => ({ key: null, value: JSON.stringify({ type: 'k', payload: i }) })));
    await waitFor('1,000 stored events', async () => (await stored(first)) === 1000, { timeoutMs: 90_000 });
    expect(await first.stop()).toBe(0);

    const replay = await setup.start({ appId: uniqueName('events-replay') });
    await waitForCommitted(replay.appId, [`${setup.prefix}events.raw`]);
    const db = connectPostgres(setup.databaseUrl, 1);
    try {
      expect(await db.one('SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM events')).toEqual({ n: 1000, ids: 1000 });
      expect((await db.any<{ id: string }>('SELECT id FROM events WHERE type = $1', ['t'])).map((r) => r.id).sort()).toEqual([...ids].sort());
    } finally {
      await db.$pool.end();
    }
  });

  it('MQTT: 1,000 QoS-1 messages published to Mosquitto appear in GET /events', async () => {
    const setup = await pipelines('postgres');
    const sensors = `${setup.prefix.replace(/\./g, '')}-sensors`;
    const p = await setup.start({ env: { MQTT_URL: 'mqtt://127.0.0.1:1883', MQTT_TOPICS: `${sensors}/+/+` } });
    const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: uniqueName('publisher') });
    try {
      for (let i = 0; i < 1000; i++) await client.publishAsync(`${sensors}/room-${i % 10}/temperature`, `${i / 10}C`, { qos: 1 });
    } finally {
      await client.endAsync();
    }
    await waitFor('1,000 MQTT events', async () => (await stored(p)) === 1000, { timeoutMs: 90_000 });
    const events = await walk(p, 1000);
    expect(events.map((e) => e.value).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 1000 }, (_, i) => i / 10));
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['temperature']));
    expect(new Set(events.map((e) => e.source))).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `${sensors}/room-${i}/temperature`)));
    expect(events.every((e) => e.unit === 'C')).toBe(true);
  });

  it('STREAMRUN_API_TOKEN guards reads and writes', async () => {
    const setup = await pipelines('postgres');
    const p = await setup.start({ env: { STREAMRUN_API_TOKEN: 's3cret' } });
    expect((await fetch(`${p.url}/events`)).status).toBe(401);
    expect((await post(p.url, { type: 'x' })).status).toBe(401);
    expect((await fetch(`${p.url}/events`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await post(p.url, { type: 'x' }, { authorization: 'Bearer s3cret' });
    expect(ok.status).toBe(202);
    expect((await fetch(`${p.url}/events/stats`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
  });
});

describe('npm run demo', () => {
  const cleanup = useCleanup();

  it('serves the API on :8080 unless PORT says otherwise', async () => {
    const events = (await import('../../topologies/events.ts')) as { options: { port?: number } };
    expect(events.options.port).toBe(8080);
    // Without PORT the script prints the :8080 lines and passes no --port; no broker answers, so nothing binds.
    const run = await promisify(execFile)('bash', ['topologies/demo.sh'], {
      cwd: repoRoot,
      env: { ...process.env, KAFKA_BROKERS: '127.0.0.1:1', MQTT_URL: '', PORT: '' },
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect('code' in run ? run.code : 0).toBe(1);
    expect(run.stdout).toContain('curl -X POST "http://localhost:8080/events?eventType=Temperature&eventData=30C"');
    expect(run.stdout.match(/localhost:\d+/g)).toEqual(Array.from({ length: 5 }, () => 'localhost:8080'));
    expect(run.stderr).toMatch(/^streamrun: cannot reach Kafka at 127\.0\.0\.1:1: /);
  });

  it('answers the original demo lines, verbatim but for the port', async () => {
    const prefix = `${uniqueName('demo')}.`;
    const [port] = await reservePorts(1);
    const databaseUrl = await freshDatabase();
    cleanup.defer(() => dropDatabase(databaseUrl));
    const stateDir = await cleanup.tempDir('streamrun-demo-');
    const run = spawn('bash', ['topologies/demo.sh'], {
      cwd: repoRoot,
      env: { ...process.env, KAFKA_BROKERS: brokers(), DATABASE_URL: databaseUrl, EVENTS_TOPIC_PREFIX: prefix, MQTT_URL: '', STREAMRUN_STATE_DIR: stateDir, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    run.stdout.on('data', (d: Buffer) => (output += d.toString()));
    run.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
    const at = `http://localhost:${port}`;
    try {
      await waitFor('the demo to run', () => output.includes(`INFO  ${prefix}events running`), { timeoutMs: 90_000 });
      expect(output).toContain(`"http":"http://127.0.0.1:${port}"`);
      expect(output).toContain(`curl -X POST "${at}/events?eventType=Temperature&eventData=30C"`);
      const shell = (line: string) => promisify(execFile)('bash', ['-c', line]).then((r) => r.stdout);
      expect(await shell(`curl -s -X POST "${at}/events?eventType=Temperature&eventData=30C"`)).toBe('Event published!');
      const listed = await waitFor('the event in GET /events', async () => {
        const body = JSON.parse(await shell(`curl -s ${at}/events`)) as { events: EventView[] };
        return body.events.length > 0 ? body.events : undefined;
      });
      expect(listed.map(({ type, payload, value, unit, source }) => ({ type, payload, value, unit, source }))).toEqual([
        { type: 'Temperature', payload: '30C', value: 30, unit: 'C', source: 'http' },
      ]);
    } finally {
      run.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
