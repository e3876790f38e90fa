import { join } from 'node:path';
import type { SetupContext } from 'streamrun';
import { startEmbeddedPostgres } from '../../lib/connectors/embedded-postgres.ts';
import { connectPostgres, type Database } from '../../lib/connectors/postgres.ts';
import { migrate } from './schema.ts';

/**
 * The server `DATABASE_URL` names or, without one, an embedded PostgreSQL (PGlite) with its data
 * under the state directory; migrated to the newest schema, closed when the runner stops.
 */
export async function openDatabase(context: SetupContext): Promise<Database> {
  const { logger } = context;
  let url = process.env['DATABASE_URL'];
  let max = 10;
  if (url === undefined || url === '') {
    const dataDir = join(context.stateDir, context.appId, 'pglite');
    const embedded = await startEmbeddedPostgres({ dataDir, logger });
    context.onStop(() => embedded.close());
    ({ url, maxConnections: max } = embedded);
    logger.info('DATABASE_URL is not set: using the embedded PostgreSQL (PGlite)', { dataDir });
  }
  const db = connectPostgres(url, max);
  context.onStop(() => db.$pool.end());
  const version = await migrate(db);
  context.healthCheck('postgres', async () => void (await db.one('SELECT 1')));
  logger.info('events schema ready', { version, server: redact(url) });
  return db;
}

/** The URL without its password, for logs. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
