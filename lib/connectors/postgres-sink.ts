import type { ExternalSink, SinkRecord } from '../dsl/external-sink.ts';
import { classifyPostgresError } from './postgres-faults.ts';
import { pgp, type SqlRunner } from './postgres.ts';

/** A column of the target table; `cast` appends `::type` to its values (e.g. 'jsonb'). */
export type PostgresColumn<R> = (keyof R & string) | { readonly name: keyof R & string; readonly cast?: string };

export interface PostgresSinkOptions<K, V, R extends object> {
  /** Where statements run: the pool from `connectPostgres`, or a function returning it once it exists. */
  readonly db: SqlRunner | (() => SqlRunner);
  /** The table, optionally schema-qualified: `events` or `{ schema: 'app', table: 'events' }`. */
  readonly table: string | { readonly schema: string; readonly table: string };
  readonly columns: readonly PostgresColumn<R>[];
  /** The columns of the unique key an upsert conflicts on. */
  readonly key: readonly (keyof R & string)[];
  /** The row for a record; null writes nothing for it. */
  readonly row: (record: SinkRecord<K, V>) => R | null;
  /** On a key already there: 'update' the other columns (default) or keep the row ('ignore'). */
  readonly onConflict?: 'update' | 'ignore';
}

/**
 * Writes records to a PostgreSQL table with one multi-row upsert per batch: one round trip, and
 * idempotent on the key, so a batch that comes again after a crash changes nothing. Values are
 * escaped by pg-promise's formatter, never spliced in as text. Rows the server refuses for their
 * data (see `classifyPostgresError`) are dead-lettered alone; any other error counts as the
 * database being in trouble.
 *
 * @example
 * stream.sink(postgresSink({
 *   db, table: 'readings', key: ['sensor_id', 'ts'],
 *   columns: ['sensor_id', 'ts', 'value'],
 *   row: ({ value: r }) => ({ sensor_id: r.sensorId, ts: new Date(r.ts), value: r.value }),
 * }), { name: 'readings-db' });
 */
export function postgresSink<K, V, R extends object>(options: PostgresSinkOptions<K, V, R>): ExternalSink<K, V> {
  const table = typeof options.table === 'string' ? options.table : new pgp.helpers.TableName(options.table);
  const columns = new pgp.helpers.ColumnSet(
    options.columns.map((c) => (typeof c === 'string' ? c : { name: c.name, ...(c.cast ? { cast: c.cast } : {}) })),
    { table },
  );
  const key = options.key.map(String);
  const target = key.map((k) => pgp.as.name(k)).join(', ');
  const onConflict =
    options.onConflict === 'ignore' || key.length === options.columns.length
      ? ` ON CONFLICT (${target}) DO NOTHING`
      : ` ON CONFLICT (${target}) DO UPDATE SET ${columns.assignColumns({ from: 'EXCLUDED', skip: key })}`;
  const db = typeof options.db === 'function' ? options.db : () => options.db as SqlRunner;
  const name = typeof options.table === 'string' ? options.table : `${options.table.schema}.${options.table.table}`;
  return {
    name: `postgres ${name}`,
    async write(records) {
      // One statement may not touch a row twice: the last record of a key wins, as it would
      // have with one statement per record.
      const rows = new Map<string, R>();
      for (const record of records) {
        let row: R | null;
        try {
          row = options.row(record);
        } catch (error) {
          throw new RowError(error);
        }
        if (row !== null) rows.set(JSON.stringify(key.map((k) => (row as Record<string, unknown>)[k])), row);
      }
      if (rows.size === 0) return;
      const values = [...rows.values()];
      try {
        await db().none(pgp.helpers.insert(values, columns) + onConflict);
      } catch (error) {
        throw classifyPostgresError(error, values) === 'data' ? new RowError(error) : error;
      }
    },
    rejects: (error) => error instanceof RowError,
  };
}

/** The records are at fault, not the database: `row` threw, or the server refused their values. */
class RowError extends Error {
  override readonly name = 'RowError';
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}
