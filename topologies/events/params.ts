/**
 * The API's query parameters, path parameters and cursors, read strictly: anything PostgreSQL
 * would refuse (or JS would read as something else) is a 400 naming the field, never a 500.
 */
import { ValidationError } from './event.ts';
import type { Cursor, EventFilter } from './queries.ts';
import { unstorableText } from './storable.ts';

export const defaultLimit = 100;
export const maxLimit = 1000;

/**
 * Years 1 to 9999: JS Date and timestamptz both hold them (PostgreSQL has no year 0), and ISO
 * 8601 writes them in four digits.
 */
export const minTime = -62_135_596_800_000;
export const maxTime = 253_402_300_799_999;

/** A date, or a date and time with seconds optional and a zone required: `Z` or `±hh:mm`. */
const isoTime = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2})))?$/;

/** The query string of `GET /events`, as fastify hands it over. */
export interface ListQuery {
  readonly type?: string;
  readonly source?: string;
  readonly from?: string;
  readonly to?: string;
  readonly cursor?: string;
  readonly limit?: string;
}

/** Reads `GET /events`' query into a filter; throws ValidationError naming the bad field. */
export function listFilter(query: ListQuery): EventFilter {
  const filter: EventFilter = { limit: query.limit === undefined ? defaultLimit : limit(query.limit) };
  if (query.type !== undefined) filter.type = text('type', query.type);
  if (query.source !== undefined) filter.source = text('source', query.source);
  if (query.from !== undefined) filter.from = time('from', query.from);
  if (query.to !== undefined) filter.to = time('to', query.to);
  if (filter.from !== undefined && filter.to !== undefined && filter.from > filter.to) {
    throw new ValidationError('to', `is earlier than from (${filter.from.toISOString()})`);
  }
  if (query.cursor !== undefined) filter.after = decodeCursor(query.cursor);
  return filter;
}

/** A text parameter (an id, a type) PostgreSQL can compare. */
export function text(field: string, value: string): string {
  const why = unstorableText(value);
  if (why !== undefined) throw new ValidationError(field, why);
  return value;
}

/** ISO 8601 (`2026-12-01`, `2026-12-01T12:00:00.5+01:00`) or ms since the epoch, years 1 to 9999. */
export function time(field: string, value: string): Date {
  const ms = /^-?\d{1,16}$/.test(value) ? Number(value) : isoMs(value);
  if (ms === undefined || ms < minTime || ms > maxTime) {
    throw new ValidationError(
      field,
      `expected an ISO 8601 date with a zone (2026-12-01T12:00:00Z) or ms since the epoch, from ${new Date(minTime).toISOString()} to ${new Date(maxTime).toISOString()}`,
    );
  }
  return new Date(ms);
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.ts, cursor.id])).toString('base64url');
}

/** A cursor this API gave out: checked after decoding, as the client may have made it up. */
export function decodeCursor(value: string): Cursor {
  let decoded: unknown;
  try {
    decoded = /^[\w-]+$/.test(value) ? JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) : undefined;
  } catch {
    // reported below
  }
  if (Array.isArray(decoded) && decoded.length === 2) {
    const [ts, id] = decoded as unknown[];
    const ms = typeof ts === 'string' ? isoMs(ts) : undefined;
    if (ms !== undefined && ms >= minTime && ms <= maxTime && typeof id === 'string' && unstorableText(id) === undefined) {
      return { ts: new Date(ms).toISOString(), id };
    }
  }
  throw new ValidationError('cursor', 'not a cursor this API gave out');
}

function limit(value: string): number {
  const n = /^\d{1,4}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= maxLimit)) throw new ValidationError('limit', `expected an integer from 1 to ${maxLimit}`);
  return n;
}

/** The instant an ISO 8601 text names, or undefined when it names none (2026-02-30, 24:00). */
function isoMs(value: string): number | undefined {
  const m = isoTime.exec(value);
  if (m === null) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((part) => (part === undefined ? undefined : Number(part)));
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const offsetMinutes = m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  const date = new Date(0);
  date.setUTCFullYear(year!, month! - 1, day!);
  date.setUTCHours(hour, minute, second, ms);
  // setUTC* roll over (February 30th is March 2nd): an instant that moved was no date.
  const exact = date.getUTCFullYear() === year && date.getUTCMonth() === month! - 1 && date.getUTCDate() === day && date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
  if (!exact || Math.abs(offsetMinutes) >= 24 * 60 || Number(m[11] ?? 0) > 59) return undefined;
  return date.getTime() - offsetMinutes * 60_000;
}
