import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { StreamrunError } from '../errors/streamrun-error.ts';
import type { Logger } from '../runtime/logger.ts';
import { lockDirectory } from '../state/dir-lock.ts';
import { WireBridge } from './pglite-wire-bridge.ts';

// ---------------------------------------------------------------------------------------------
// Options

export interface EmbeddedPostgresOptions {
  /** Where the database lives; created on first start, reopened after. One process at a time. */
  dataDir: string;
  /** Interface to bind. Default '127.0.0.1': there is no authentication, any user name is let in. */
  host?: string;
  /** TCP port; 0 (the default) takes any free port, read it back from `url`. */
  port?: number;
  logger: Logger;
}

export interface EmbeddedPostgres {
  /** postgres://… URL to hand to pg-promise */
  readonly url: string;
  /**
   * Connections a client pool may open at once against it: 1. Give it to pg-promise as `max`.
   * PGlite is one Postgres backend; a second connection waits until the first one closes.
   */
  readonly maxConnections: number;
  /**
   * Tells connected clients the server is shutting down (FATAL 57P01, as Postgres does), waits
   * for the statement in flight, closes the sockets and the database. Safe to call twice.
   */
  close(): Promise<void>;
}

export const defaultEmbeddedHost = '127.0.0.1';

function checkOptions(options: EmbeddedPostgresOptions): { dataDir: string; host: string; port: number } {
  const { dataDir, host = defaultEmbeddedHost, port = 0 } = options;
  if (typeof dataDir !== 'string' || dataDir.trim() === '') {
    throw new StreamrunError('INVALID_OPTIONS', 'embedded postgres dataDir: must be a directory path');
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dataDir)) {
    // PGlite reads memory://, idb://, file:// … as a storage choice, not as a directory.
    throw new StreamrunError('INVALID_OPTIONS', `embedded postgres dataDir: expected a directory path, got ${dataDir}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new StreamrunError('INVALID_OPTIONS', `embedded postgres port: expected an integer from 0 to 65535, got ${port}`);
  }
  if (host.trim() === '') throw new StreamrunError('INVALID_OPTIONS', 'embedded postgres host: must not be empty');
  return { dataDir: resolve(dataDir), host, port };
}

// ---------------------------------------------------------------------------------------------
// Start

/**
 * Starts PostgreSQL in this process (PGlite, Postgres compiled to WASM) on `dataDir` and serves
 * it over the wire protocol on a local port, so code written for a Postgres server runs unchanged.
 *
 * One client connection is served at a time (see `maxConnections`): PGlite has a single backend,
 * and sharing it between connections mixes up their prepared statements, SET values and
 * half-sent extended-protocol messages. Later connections wait their turn instead of failing,
 * which keeps a pool's reconnects and short-lived clients such as psql working.
 *
 * @example
 * const embedded = await startEmbeddedPostgres({ dataDir: './data/pg', logger });
 * const pgp = pgPromise();
 * const db = pgp({ connectionString: embedded.url, max: embedded.maxConnections });
 * await db.none('CREATE TABLE IF NOT EXISTS seen (id int PRIMARY KEY)');
 * // …
 * await db.$pool.end(); // pgp.end() would end every pool in the process
 * await embedded.close();
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { dataDir, host, port } = checkOptions(options);
  const { logger } = options;
  await mkdir(dataDir, { recursive: true });
  const unlock = await lockDirectory(dataDir, 'embedded postgres');

  const created = !existsSync(join(dataDir, 'PG_VERSION'));
  const started = performance.now();
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir);
  } catch (error) {
    await unlock();
    throw new StreamrunError('INVALID_OPTIONS', `embedded postgres: cannot open ${dataDir}: ${reason(error)}`, {
      cause: error,
    });
  }
  const startupMs = Math.round(performance.now() - started);

  const bridge = new WireBridge(db, logger);
  try {
    await bridge.listen(host, port);
  } catch (error) {
    await db.close();
    await unlock();
    throw new StreamrunError('INVALID_OPTIONS', `embedded postgres: cannot listen on ${host}:${port}: ${reason(error)}`, {
      cause: error,
    });
  }
  const url = urlFor(host, bridge.port);
  logger.info('embedded postgres listening', { url, dataDir, created, startupMs });
  return new EmbeddedPostgresImpl(url, dataDir, bridge, db, unlock, logger);
}

class EmbeddedPostgresImpl implements EmbeddedPostgres {
  readonly url: string;
  readonly maxConnections = 1;
  readonly #dataDir: string;
  readonly #bridge: WireBridge;
  readonly #db: PGlite;
  readonly #unlock: () => Promise<void>;
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  constructor(url: string, dataDir: string, bridge: WireBridge, db: PGlite, unlock: () => Promise<void>, logger: Logger) {
    this.url = url;
    this.#dataDir = dataDir;
    this.#bridge = bridge;
    this.#db = db;
    this.#unlock = unlock;
    this.#logger = logger;
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    await this.#bridge.close();
    try {
      await this.#db.close();
    } finally {
      await this.#unlock();
    }
    this.#logger.info('embedded postgres stopped', { dataDir: this.#dataDir });
  }
}

function urlFor(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `postgres://postgres@${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}/postgres`;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
