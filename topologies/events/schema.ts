import type { Database } from '../../lib/connectors/postgres.ts';

/**
 * The schema, one step per version. A step never changes once released: a new need is a new
 * step, so every database walks the same path.
 */
const steps: readonly string[] = [
  `CREATE TABLE events (
     id text PRIMARY KEY,
     type text NOT NULL,
     source text NOT NULL,
     ts timestamptz NOT NULL,
     payload jsonb,
     value double precision,
     unit text,
     ingested_at timestamptz NOT NULL,
     processed_at timestamptz NOT NULL,
     lag_ms bigint NOT NULL
   );
   CREATE INDEX events_ts_id ON events (ts DESC, id DESC);
   CREATE INDEX events_type_ts ON events (type, ts DESC);
   CREATE INDEX events_processed_at ON events (processed_at);
   CREATE TABLE event_stats (
     type text NOT NULL,
     window_start timestamptz NOT NULL,
     window_end timestamptz NOT NULL,
     count bigint NOT NULL,
     numeric_count bigint NOT NULL,
     min double precision,
     max double precision,
     avg double precision,
     PRIMARY KEY (type, window_start)
   );`,
];

/**
 * Brings the schema to the newest version at start-up. An advisory lock keeps two instances
 * starting together from running the same step twice.
 */
export async function migrate(db: Database): Promise<number> {
  return db.tx(async (t) => {
    await t.one('SELECT pg_advisory_xact_lock(hashtext($1))', ['streamrun-events-schema']);
    await t.none('CREATE TABLE IF NOT EXISTS events_schema (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { version } = await t.one<{ version: number }>('SELECT coalesce(max(version), 0)::int AS version FROM events_schema');
    for (let next = version; next < steps.length; next++) {
      await t.none(steps[next]!);
      await t.none('INSERT INTO events_schema (version) VALUES ($1)', [next + 1]);
    }
    return steps.length;
  });
}
