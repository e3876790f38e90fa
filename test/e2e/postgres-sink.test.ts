import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { postgresSink } from '../../lib/connectors/postgres-sink.ts';
import { useCleanup } from './helpers/cleanup.ts';
import { createTopic, produce, readAll, readAllSettled, recordCount, uniqueName, waitForCommitted, type ReadRecord } from './helpers/kafka.ts';
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

interface Row {
  id: string;
  sensor: string;
  value: number;
  kafka_offset: string;
}

/** The rows the records should leave: one per id, the last record of an id winning, with its offset. */
const rowsOf = (records: readonly ReadRecord[]): Row[] => {
  const rows = new Map<string, Row>();
  for (const r of records) {
    const reading = JSON.parse(r.value!) as Reading;
    if (reading.value >= -273.15) rows.set(reading.id, { ...reading, kafka_offset: r.offset });
  }
  return [...rows.values()].sort((a, b) => a.id.localeCompare(b.id));
};

describe('postgresSink', () => {
  // Registered first, so it runs after the runners stopped.
  const cleanup = useCleanup();
  const startRunner = useRunners();
  const postgres = usePostgres();
  const admin = postgres();
  const rowsIn = (table: string) => admin.any<Row>(`SELECT id, sensor, value, kafka_offset::text FROM ${table} ORDER BY id COLLATE "C"`);

  const readingsTable = async () => {
    const table = uniqueName('readings').replace(/-/g, '_');
    await admin.none(
      `CREATE TABLE ${table} (id text PRIMARY KEY, sensor text NOT NULL, value double precision NOT NULL CHECK (value >= -273.15), kafka_offset bigint NOT NULL)`,
    );
    cleanup.defer(() => admin.none(`DROP TABLE IF EXISTS ${table}`));
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
    // Rows are written before the offsets are committed: once all are committed, all rows are in.
    await waitForCommitted(appId, [input]);
    const values = new Map(Array.from({ length: 3000 }, (_, i) => [`r${i}`, i / 10]));
    for (let i = 0; i < 100; i++) values.set(`r${i * 30}`, 1000 + i);
    // Offsets from the input as it lies in the broker; the values as the test wrote them.
    const expected = rowsOf(await readAll(input, 3100));
    expect(expected.map((r) => [r.id, r.value])).toEqual([...values].sort(([a], [b]) => a.localeCompare(b)));
    expect(await rowsIn(table)).toEqual(expected);
    expect(runner.stats()).toMatchObject({ consumed: 3100, deadLettered: 0 });
    await runner.stop();

    // The same input under another application id: every row is written again, none added.
    const replayId = uniqueName('pg-sink-replay');
    const again = await startRunner(app(replayId, input, table, admin));
    await waitForCommitted(replayId, [input]);
    await again.stop();
    expect(again.stats()).toMatchObject({ consumed: 3100, deadLettered: 0 });
    expect(await rowsIn(table)).toEqual(expected);
  });

  it('dead-letters only the rows the database refuses for their data, and writes the rest', async () => {
    const input = uniqueName('refused-in');
    const table = await readingsTable();
    await createTopic(input, 1);
    const appId = uniqueName('pg-refused');
    const runner = await startRunner(app(appId, input, table, admin), { errors: { backoff: { initialMs: 5 } } });
    // Offsets 5 and 12 break the CHECK constraint (below absolute zero).
    await produce(input, Array.from({ length: 20 }, (_, i) => reading(i, i === 5 || i === 12 ? -500 : i)));
    const letters = await readAllSettled(`${appId}-dlq`, { group: appId, inputs: [input] });
    expect(letters.map((r) => [header(r, 'original.offset'), header(r, 'node'), header(r, 'attempts'), header(r, 'error.class')])).toEqual([
      ['5', 'readings-db', '1', 'DatabaseError'],
      ['12', 'readings-db', '1', 'DatabaseError'],
    ]);
    expect(header(letters[0]!, 'error.message')).toContain('check constraint');
    expect(await rowsIn(table)).toEqual(rowsOf(await readAll(input, 20)));
    expect((await rowsIn(table)).map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`).filter((id) => id !== 'r5' && id !== 'r12').sort());
    expect(runner.stats()).toMatchObject({ consumed: 20, deadLettered: 2, pauses: 0 });
  });

  it('while the database refuses writes (rights revoked), partitions pause, /health says degraded, nothing is dead-lettered, all rows land after', async () => {
    const input = uniqueName('revoked-in');
    const table = await readingsTable();
    const role = uniqueName('sink_role').replace(/-/g, '_');
    await admin.none(`CREATE ROLE ${role} LOGIN`);
    // After the table's own cleanup (which takes its grants along): the last added runs first.
    cleanup.defer(() => admin.none(`DROP ROLE IF EXISTS ${role}`));
    cleanup.defer(() => admin.none(`DROP TABLE IF EXISTS ${table}`));
    await admin.none(`GRANT SELECT, INSERT, UPDATE ON ${table} TO ${role}`);
    await createTopic(input, 2);
    const appId = uniqueName('pg-revoked');
    const logger = collectingLogger();
    const runner = await startRunner(app(appId, input, table, postgres(role)), {
      logger,
      errors: { retries: 3, backoff: { initialMs: 50, maxMs: 200 } },
      port: 0,
    });
    const health = async () => {
      const response = await fetch(`${runner.httpUrl!}/health`);
      const report = (await response.json()) as { status: string; checks: Record<string, string> };
      return [response.status, report.status, report.checks['circuit readings-db']];
    };
    await produce(input, Array.from({ length: 500 }, (_, i) => reading(i)));
    await waitForCommitted(appId, [input]);
    const firstHalf = await readAll(input, 500);
    expect(await rowsIn(table)).toEqual(rowsOf(firstHalf));

    await admin.none(`REVOKE INSERT, UPDATE ON ${table} FROM ${role}`);
    await produce(input, Array.from({ length: 500 }, (_, i) => reading(500 + i)));
    // The circuit half-opens every 300 ms and a record's retries span at most 350 ms: by the
    // third opening the writes have been refused for longer than that budget.
    const openings = () => logger.lines.filter((l) => l.includes('circuit opened at readings-db')).length;
    await waitFor('the circuit to open three times', () => openings() >= 3);
    const all = await readAll(input, 1000);
    const secondHalf = all.filter((r) => !firstHalf.some((f) => f.partition === r.partition && f.offset === r.offset));
    // Each partition with records waiting paused once.
    expect(runner.stats().pauses).toBe(new Set(secondHalf.map((r) => r.partition)).size);
    expect(await rowsIn(table)).toEqual(rowsOf(firstHalf));
    // Open or half-open, the circuit is not closed until a write goes through.
    expect(await health()).toEqual([503, 'degraded', 'open: its records wait until a call goes through']);
    await admin.none(`GRANT INSERT, UPDATE ON ${table} TO ${role}`);

    await waitForCommitted(appId, [input]);
    expect(await health()).toEqual([200, 'ok', 'ok']);
    expect(await rowsIn(table)).toEqual(rowsOf(all));
    expect(await recordCount(`${appId}-dlq`)).toBe(0);
    expect(runner.stats()).toMatchObject({ consumed: 1000, deadLettered: 0, processingErrors: 0, pauses: new Set(secondHalf.map((r) => r.partition)).size });
    await runner.stop();
  });
});
