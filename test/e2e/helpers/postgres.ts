import { afterAll } from 'vitest';
import { connectPostgres, type Database } from '../../../lib/connectors/postgres.ts';

/** The real server CI and every session run: trust auth, database `test`. */
export const postgresUrl = (user = 'postgres'): string => {
  const url = new URL(process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test');
  url.username = user;
  return url.toString();
};

/** Pools opened through this end after the file's tests, so vitest can exit. */
export function usePostgres(): (user?: string) => Database {
  const pools: Database[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((db) => db.$pool.end()));
  });
  return (user) => {
    const db = connectPostgres(postgresUrl(user), 4);
    pools.push(db);
    return db;
  };
}

/** Drops a database `freshDatabase` made (by its URL), closing the connections still open to it. */
export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`not a test database: ${name}`);
  const admin = connectPostgres(postgresUrl(), 1);
  try {
    await admin.none(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.$pool.end();
  }
}
