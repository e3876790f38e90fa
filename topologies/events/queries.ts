import type { Database } from '../../lib/connectors/postgres.ts';

/** An event as the API shows it. */
export interface EventView {
  id: string;
  type: string;
  source: string;
  timestamp: string;
  payload: unknown;
  value: number | null;
  unit: string | null;
  ingestedAt: string;
  processedAt: string;
  lagMs: number;
}

export interface EventFilter {
  type?: string;
  source?: string;
  /** Event time bounds, inclusive from, exclusive to. */
  from?: Date;
  to?: Date;
  /** Where the previous page ended. */
  after?: Cursor;
  limit: number;
}

/** A page ends at an event; the next one starts behind it in (time, id) order. */
export interface Cursor {
  readonly ts: string;
  readonly id: string;
}

export interface TypeStats {
  type: string;
  count: number;
  /** Events whose payload held a number; min, max and avg are over those. */
  numericCount: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  /** Events processed in the last minute, per second. */
  ratePerSecond: number;
}

export interface WindowStats {
  type: string;
  start: string;
  end: string;
  count: number;
  numericCount: number;
  min: number | null;
  max: number | null;
  avg: number | null;
}

interface EventRow {
  id: string;
  type: string;
  source: string;
  ts: Date;
  payload: unknown;
  value: number | null;
  unit: string | null;
  ingested_at: Date;
  processed_at: Date;
  lag_ms: string;
}

const view = (r: EventRow): EventView => ({
  id: r.id,
  type: r.type,
  source: r.source,
  timestamp: r.ts.toISOString(),
  payload: r.payload,
  value: r.value,
  unit: r.unit,
  ingestedAt: r.ingested_at.toISOString(),
  processedAt: r.processed_at.toISOString(),
  lagMs: Number(r.lag_ms),
});

/** Newest first; every condition is a parameter, never spliced-in text. */
export async function listEvents(db: Database, filter: EventFilter): Promise<{ events: EventView[]; next: Cursor | null }> {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => `$${values.push(value)}`;
  if (filter.type !== undefined) conditions.push(`type = ${param(filter.type)}`);
  if (filter.source !== undefined) conditions.push(`source = ${param(filter.source)}`);
  // As UTC text: pg-promise writes a Date in local time, where year 1 may fall in year 0.
  if (filter.from !== undefined) conditions.push(`ts >= ${param(filter.from.toISOString())}::timestamptz`);
  if (filter.to !== undefined) conditions.push(`ts < ${param(filter.to.toISOString())}::timestamptz`);
  if (filter.after !== undefined) conditions.push(`(ts, id) < (${param(filter.after.ts)}::timestamptz, ${param(filter.after.id)})`);
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
  const limit = param(filter.limit + 1);
  const rows = await db.any<EventRow>(`SELECT * FROM events ${where} ORDER BY ts DESC, id DESC LIMIT ${limit}`, values);
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  const next = rows.length > filter.limit && last !== undefined ? { ts: last.ts.toISOString(), id: last.id } : null;
  return { events: page.map(view), next };
}

export async function getEvent(db: Database, id: string): Promise<EventView | null> {
  const row = await db.oneOrNone<EventRow>('SELECT * FROM events WHERE id = $1', [id]);
  return row === null ? null : view(row);
}

/** Totals per type over every stored event, with the rate over the last minute. */
export async function typeStats(db: Database): Promise<TypeStats[]> {
  const rows = await db.any<{ type: string; count: string; numeric_count: string; min: number | null; max: number | null; avg: number | null; recent: string }>(
    `SELECT type, count(*) AS count, count(value) AS numeric_count, min(value) AS min, max(value) AS max, avg(value) AS avg,
            count(*) FILTER (WHERE processed_at > now() - interval '1 minute') AS recent
       FROM events GROUP BY type ORDER BY type`,
  );
  return rows.map((r) => ({
    type: r.type,
    count: Number(r.count),
    numericCount: Number(r.numeric_count),
    min: r.min,
    max: r.max,
    avg: r.avg,
    ratePerSecond: Number(r.recent) / 60,
  }));
}

/** The newest 1-minute windows, newest first. */
export async function latestWindows(db: Database, limit: number): Promise<WindowStats[]> {
  const rows = await db.any<{ type: string; window_start: Date; window_end: Date; count: string; numeric_count: string; min: number | null; max: number | null; avg: number | null }>(
    'SELECT * FROM event_stats ORDER BY window_start DESC, type LIMIT $1',
    [limit],
  );
  return rows.map((r) => ({
    type: r.type,
    start: r.window_start.toISOString(),
    end: r.window_end.toISOString(),
    count: Number(r.count),
    numericCount: Number(r.numeric_count),
    min: r.min,
    max: r.max,
    avg: r.avg,
  }));
}
