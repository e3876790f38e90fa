import { describe, expect, it } from 'vitest';
import { serdes, topology } from '../../lib/index.ts';
import { postgresSink } from '../../lib/connectors/postgres-sink.ts';
import { useCleanup } from './helpers/cleanup.ts';
import { createTopic, produce, produceWithKcat, readAll, readAllSettled, recordCount, uniqueName, waitForCommitted, type ReadRecord } from './helpers/kafka.ts';
import { collectingLogger } from './helpers/logger.ts';
import { usePostgres } from './helpers/postgres.ts';
import { useRunners } from './helpers/runners.ts';

interface Reading {
  id: string;
  sensor: string;
  serial: string;
}

interface Row extends Reading {
  kafka_offset: string;
}

const header = (r: ReadRecord, name: string) => String(r.headers?.[`streamrun.${name}`] ?? '');

/** The rows `records` should leave, from the records as they lie in the broker; `refused` left out. */
const rowsOf = (records: readonly ReadRecord[], refused: (r: Reading) => boolean): Row[] =>
  records
    .map((r) => ({ reading: JSON.parse(r.value!) as Reading, offset: r.offset }))
    .filter(({ reading }) => !refused(reading))
    .map(({ reading, offset }) => ({ ...reading, kafka_offset: offset }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

describe('postgresSink with bad values among good ones', () => {
  // Registered first, so it runs after the runners stopped.
  const cleanup = useCleanup();
  const startRunner = useRunners();
  const postgres = usePostgres();
  const admin = postgres();
  const rowsIn = (table: string) => admin.any<Row>(`SELECT id, sensor, serial, kafka_offset::text FROM ${table} ORDER BY id COLLATE "C"`);

  const readingsTable = async () => {
    const table = uniqueName('faults').replace(/-/g, '_');
    await admin.none(`CREATE TABLE ${table} (id text PRIMARY KEY, sensor text NOT NULL, serial text NOT NULL UNIQUE, kafka_offset bigint NOT NULL)`);
    cleanup.defer(() => admin.none(`DROP TABLE IF EXISTS ${table}`));
    return table;
  };
  const app = (appId: string, input: string, table: string) =>
    topology(appId)
      .stream(input, { key: serdes.string, value: serdes.json<Reading>() })
      .sink(
        postgresSink<string, Reading, Row>({
          db: admin,
          table,
          key: ['id'],
          columns: ['id', 'sensor', 'serial', 'kafka_offset'],
          row: ({ value, context }) => ({ ...value, kafka_offset: context.offset }),
        }),
        { name: 'readings-db', breaker: { failures: 3, halfOpenAfterMs: 300 } },
      );
  const reading = (i: number, sensor = `s${i % 7}`, serial = `S-${i}`) => ({
    key: `k${i}`,
    value: JSON.stringify({ id: `r${String(i).padStart(3, '0')}`, sensor, serial }),
  });

  for (const [via, send] of [['KafkaJS', produce], ['kcat', produceWithKcat]] as const) {
    it(`dead-letters a record with a NUL in a text column alone, writes the 20 beside it and the 100 after it (produced with ${via})`, async () => {
      const input = uniqueName('nul-in');
      const table = await readingsTable();
      await createTopic(input, 3);
      // In the broker before the runner starts, so the bad record shares a batch with the others.
      await send(input, [...Array.from({ length: 10 }, (_, i) => reading(i)), reading(10, 'x\u0000y'), ...Array.from({ length: 10 }, (_, i) => reading(11 + i))]);
      const appId = uniqueName('pg-nul');
      const logger = collectingLogger();
      const runner = await startRunner(app(appId, input, table), { logger });
      const first = await readAll(input, 21);
      await waitForCommitted(appId, [input]);
      const isBad = (r: Reading) => r.sensor.includes('\u0000');
      expect(await rowsIn(table)).toEqual(rowsOf(first, isBad));
      expect((await rowsIn(table)).length).toBe(20);

      await send(input, Array.from({ length: 100 }, (_, i) => reading(21 + i)));
      // Every partition's committed offset reaches its end: none stalls behind the bad record.
      await waitForCommitted(appId, [input]);
      const all = await readAll(input, 121);
      expect(all.length).toBe(121);
      expect(await rowsIn(table)).toEqual(rowsOf(all, isBad));
      expect((await rowsIn(table)).length).toBe(120);

      const letters = await readAllSettled(`${appId}-dlq`, { group: appId, inputs: [input] });
      const bad = first.find((r) => isBad(JSON.parse(r.value!) as Reading))!;
      expect(letters.map((r) => [r.key, r.value, header(r, 'original.topic'), header(r, 'original.partition'), header(r, 'original.offset')])).toEqual([
        [bad.key, bad.value, input, String(bad.partition), bad.offset],
      ]);
      // What the server answers for a NUL in a text value: SQLSTATE 08P01.
      expect(letters.map((r) => [header(r, 'node'), header(r, 'attempts'), header(r, 'error.class'), header(r, 'error.message')])).toEqual([
        ['readings-db', '1', 'DatabaseError', 'invalid message format'],
      ]);
      // The database was never taken for down.
      expect(logger.lines.filter((l) => l.includes('circuit'))).toEqual([]);
      expect(runner.stats()).toMatchObject({ consumed: 121, deadLettered: 1, pauses: 0, retries: 0 });
      await runner.stop();
    });
  }

  it('dead-letters a record breaking a unique constraint in the middle of a batch alone, and writes the rest', async () => {
    const input = uniqueName('unique-in');
    const table = await readingsTable();
    await admin.none(`INSERT INTO ${table} (id, sensor, serial, kafka_offset) VALUES ('taken', 's0', 'S-taken', 0)`);
    await createTopic(input, 1);
    // 41 records in one partition; the 21st (offset 20) takes a serial another row holds.
    await produce(input, Array.from({ length: 41 }, (_, i) => (i === 20 ? reading(i, 's6', 'S-taken') : reading(i))));
    const appId = uniqueName('pg-unique');
    const runner = await startRunner(app(appId, input, table));
    const letters = await readAllSettled(`${appId}-dlq`, { group: appId, inputs: [input] });
    expect(letters.map((r) => [header(r, 'original.offset'), header(r, 'node'), header(r, 'attempts'), header(r, 'error.class')])).toEqual([
      ['20', 'readings-db', '1', 'DatabaseError'],
    ]);
    expect(header(letters[0]!, 'error.message')).toContain('duplicate key value violates unique constraint');
    const all = await readAll(input, 41);
    const expected = [{ id: 'taken', sensor: 's0', serial: 'S-taken', kafka_offset: '0' }, ...rowsOf(all, (r) => r.serial === 'S-taken')];
    expect(await rowsIn(table)).toEqual(expected.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
    expect((await rowsIn(table)).length).toBe(41);
    expect(await recordCount(`${appId}-dlq`)).toBe(1);
    expect(runner.stats()).toMatchObject({ consumed: 41, deadLettered: 1, pauses: 0, retries: 0 });
    await runner.stop();
  });
});
