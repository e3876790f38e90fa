import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { connectPostgres } from '../../lib/connectors/postgres.ts';
import { postgresSink } from '../../lib/connectors/postgres-sink.ts';
import { useCleanup } from './helpers/cleanup.ts';
import { createTopic, produce, uniqueName, waitForCommitted } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { postgresUrl, usePostgres } from './helpers/postgres.ts';
import { useRunners } from './helpers/runners.ts';
import { tcpProxy } from './helpers/tcp-proxy.ts';
import { waitFor } from './helpers/wait.ts';

const partitions = 3;
const maxBufferedOutputs = 1000;

describe('PostgreSQL down for a while under a postgresSink', () => {
  // Registered first, so it runs after the runners stopped.
  const cleanup = useCleanup();
  const startRunner = useRunners();
  const admin = usePostgres()();

  it('pauses the partitions with at most one chunk each in hand, then stores all 50,100 events once each', async () => {
    const table = uniqueName('down').replace(/-/g, '_');
    await admin.none(`CREATE TABLE ${table} (id text PRIMARY KEY, n integer NOT NULL)`);
    cleanup.defer(() => admin.none(`DROP TABLE IF EXISTS ${table}`));
    const proxy = await tcpProxy(Number(new URL(postgresUrl()).port || 5432));
    cleanup.defer(() => proxy.close());
    const viaProxy = new URL(postgresUrl());
    viaProxy.port = String(proxy.port);
    const db = connectPostgres(viaProxy.toString(), 4);
    cleanup.defer(() => db.$pool.end());
    const input = uniqueName('down-in');
    await createTopic(input, partitions);
    const appId = uniqueName('db-down');
    const logger = collectingLogger();
    const app = topology(appId)
      .stream(input, { key: serdes.string, value: serdes.json<{ id: string; n: number }>() })
      .sink(postgresSink({ db, table, key: ['id'], columns: ['id', 'n'], row: ({ value }) => value }), {
        name: 'events-db',
        breaker: { failures: 3, halfOpenAfterMs: 200 },
      });
    const runner = await startRunner(app, { logger, maxBufferedOutputs });
    const events = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: JSON.stringify({ id: `e${from + i}`, n: from + i }) }));
    const rows = async () => (await admin.one<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).n;
    await produce(input, events(0, 100));
    await waitFor('the first 100 stored', async () => (await rows()) === 100);

    await proxy.close();
    await produce(input, events(100, 50_000));
    await waitFor('every partition paused', () => runner.stats().pauses >= partitions && logger.lines.some((l) => l.includes('circuit opened at events-db')));
    const paused = runner.stats();
    const probes = () => logger.lines.filter((l) => l.includes('circuit open at events-db: waiting')).length;
    const probesWhenPaused = probes();
    // Structural, not timed: twenty more tries of the database fail, and nothing more is read meanwhile.
    await waitFor('20 more tries of the database', () => probes() >= probesWhenPaused + 20);
    const held = runner.stats();
    expect(held.consumed).toBe(paused.consumed);
    expect(held.consumed - 100).toBeLessThanOrEqual(partitions * maxBufferedOutputs);
    expect(held).toMatchObject({ commits: paused.commits, deadLettered: 0, processingErrors: 0 });
    expect(await rows()).toBe(100);

    await proxy.open();
    await waitFor('all events stored', async () => (await rows()) === 50_100, { timeoutMs: 120_000, intervalMs: 500 });
    await waitForCommitted(appId, [input]);
    const stored = await admin.any<{ id: string; n: number }>(`SELECT id, n FROM ${table} ORDER BY n`);
    expect(stored).toEqual(Array.from({ length: 50_100 }, (_, n) => ({ id: `e${n}`, n })));
    expect(runner.stats()).toMatchObject({ consumed: 50_100, deadLettered: 0, processingErrors: 0 });
    await runner.stop();
  });
});
