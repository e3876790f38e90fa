import pgPromise from 'pg-promise';

/**
 * The one pg-promise instance of the process: pg-promise warns when it is initialised twice,
 * and its helpers (column sets, formatting) come from it.
 */
export const pgp = pgPromise({ capSQL: true });

export type Database = pgPromise.IDatabase<object>;

/** Anything that runs a statement: a database or a transaction of one. */
export interface SqlRunner {
  none(query: string, values?: unknown): Promise<null>;
}

/** A pool on `url`; `max` bounds its connections. */
export function connectPostgres(url: string, max = 10): Database {
  return pgp({ connectionString: url, max });
}
