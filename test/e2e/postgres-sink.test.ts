import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { postgresSink } from '../../lib/connectors/postgres-sink.ts';
import { createTopic, produce, readAll, recordCount, uniqueName } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { usePostgres } from './helpers/postgres.ts';
import { useRunners } from './helpers/runners.ts';
import { waitFor } from './helpers/wait.ts';

interface Reading {
  id: string;
  sensor: string;
  value: number;
}

const header = (r: { headers: Record<string, unknown> | undefined }, name: string) => String(r.headers?.[`streamrun.${name}`] ?? '');

describe('postgresSink', () => {
  const startRunner = useRunners();
  const postgres = usePostgres();
  const admin = postgres();

  const readingsTable = async () => {
    const table = uniqueName('readings').replace(/-/g, '_');
    await admin.none(
      `CREATE TABLE ${table} (id text PRIMARY KEY, sensor text NOT NULL, value double precision NOT NULL CHECK (value >= -273.15), kafka_offset bigint NOT NULL)`,
    );
    return table;
  };
  const app = (appId: string, input: string, table: string, db: ReturnType<typeof postgres>) =>
    topology(appId)
      .stream(input, { key: serdes.string, value: serdes.json<Reading>() })
      .sink(
        postgresSink<string, Reading, { id: string; sensor: string; value: number; kafka_offset: string }>({
          db,
          table,
          key: ['id'],
          columns: ['id', 'sensor', 'value', 'kafka_offset'],
          row: ({ value, context }) => ({ id: value.id, sensor: value.sensor, value: value.value, kafka_offset: context.offset }),
        }),
        { name: 'readings-db', breaker: { failures: 3, halfOpenAfterMs: 300 } },
      );
  const reading = (i: number, value = i / 10): { key: string; value: string } => ({
    key: `s${i % 7}`,
    value: JSON.stringify({ id: `r${i}`, sensor: `s${i % 7}`, value }),
  });

  it('upserts every record once, the last of an id winning, and a replay changes nothing', async () => {
    const input = uniqueName('readings-in');
    const table = await readingsTable();
    await createTopic(input, 3);
    // 3,000 readings, then 100 of them again with new values: 3,000 rows, the new values in them.
    await produce(input, [
      ...Array.from({ length: 3000 }, (_, i) => reading(i)),
      ...Array.from({ length: 100 }, (_, i) => reading(i * 30, 1000 + i)),
    ]);
    const appId = uniqueName('pg-sink');
    const runner = await startRunner(app(appId, input, table, admin));
    await waitFor('every record', () => runner.stats().consumed === 3100);
    await waitFor('the last commit', async () => (await admin.one(`SELECT count(*)::int AS n FROM ${table}`)).n === 3000);
    const rows = await admin.any<{ id: string; value: number }>(`SELECT id, value FROM ${table} ORDER BY id`);
    const expected = new Map(Array.from({ length: 3000 }, (_, i) => [`r${i}`, i / 10]));
    for (let i = 0; i < 100; i++) expected.set(`r${i * 30}`, 1000 + i);
    expect(new Map(rows.map((r) => [r.id, r.value]))).toEqual(expected);
    await runner.stop();

    // The same input under another application id: every row is written again, none added.
    const again = await startRunner(app(uniqueName('pg-sink-replay'), input, table, admin));
    await waitFor('the replay', () => again.stats().consumed === 3100);
    await again.stop();
    expect((await admin.one(`SELECT count(*)::int AS n FROM ${table}`)).n).toBe(3000);
    expect(new Map((await admin.any<{ id: string; value: number }>(`SELECT id, value FROM ${table}`)).map((r) => [r.id, r.value]))).toEqual(expected);
  });

  it('dead-letters only the rows the database refuses for their data, and writes the rest', async () => {
    const input = uniqueName('refused-in');
    const table = await readingsTable();
    await createTopic(input, 1);
    const appId = uniqueName('pg-refused');
    const runner = await startRunner(app(appId, input, table, admin), { errors: { backoff: { initialMs: 5 } } });
    // Offsets 5 and 12 break the CHECK constraint (below absolute zero).
    await produce(input, Array.from({ length: 20 }, (_, i) => reading(i, i === 5 || i === 12 ? -500 : i)));
    const letters = await readAll(`${appId}-dlq`, 2);
    expect(letters.map((r) => [header(r, 'original.offset'), header(r, 'node'), header(r, 'attempts'), header(r, 'error.class')])).toEqual([
      ['5', 'readings-db', '1', 'DatabaseError'],
      ['12', 'readings-db', '1', 'DatabaseError'],
    ]);
    expect(header(letters[0]!, 'error.message')).toContain('check constraint');
    await waitFor('the other rows', async () => (await admin.one(`SELECT count(*)::int AS n FROM ${table}`)).n === 18);
    expect(runner.stats()).toMatchObject({ deadLettered: 2, pauses: 0 });
  });

  it('while the database refuses writes (rights revoked), partitions pause, nothing is dead-lettered, all rows land after', async () => {
    const input = uniqueName('revoked-in');
    const table = await readingsTable();
    const role = uniqueName('sink_role').replace(/-/g, '_');
    await admin.none(`CREATE ROLE ${role} LOGIN`);
    await admin.none(`GRANT SELECT, INSERT, UPDATE ON ${table} TO ${role}`);
    await createTopic(input, 2);
    const appId = uniqueName('pg-revoked');
    const logger = collectingLogger();
    const runner = await startRunner(app(appId, input, table, postgres(role)), {
      logger,
      errors: { retries: 3, backoff: { initialMs: 50, maxMs: 200 } },
    });
    await produce(input, Array.from({ length: 500 }, (_, i) => reading(i)));
    await waitFor('the first 500 rows', async () => (await admin.one(`SELECT count(*)::int AS n FROM ${table}`)).n === 500);

    await admin.none(`REVOKE INSERT, UPDATE ON ${table} FROM ${role}`);
    await produce(input, Array.from({ length: 500 }, (_, i) => reading(500 + i)));
    await waitFor('the circuit to open', () => logger.lines.some((l) => l.includes('circuit opened at readings-db')));
    await new Promise((r) => setTimeout(r, 2000));
    expect((await admin.one(`SELECT count(*)::int AS n FROM ${table}`)).n).toBe(500);
    await admin.none(`GRANT INSERT, UPDATE ON ${table} TO ${role}`);

    await waitFor('all 1,000 rows', async () => (await admin.one(`SELECT count(*)::int AS n FROM ${table}`)).n === 1000);
    expect(await recordCount(`${appId}-dlq`)).toBe(0);
    expect(runner.stats().deadLettered).toBe(0);
    expect(runner.stats().pauses).toBeGreaterThanOrEqual(1);
    await runner.stop();
    await admin.none(`DROP TABLE ${table}; DROP ROLE ${role}`);
  });
});
