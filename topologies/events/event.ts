import { checkStorable, unstorableText } from './storable.ts';

/** An event as it arrives: from HTTP, MQTT, or any Kafka producer writing JSON to `events.raw`. */
export interface RawEvent {
  readonly id?: unknown;
  readonly type?: unknown;
  readonly source?: unknown;
  readonly timestamp?: unknown;
  readonly payload?: unknown;
}

/** A valid event: every field present and of its type. */
export interface Event {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  /** Event time, ms since the epoch. */
  readonly timestamp: number;
  readonly payload: unknown;
}

/** An event after enrichment, as it is written to `events.processed` and PostgreSQL. */
export interface ProcessedEvent extends Event {
  /** The number in the payload (`"30C"` → 30), if it has one. */
  readonly value: number | null;
  readonly unit: string | null;
  /** When Kafka took it in (the record's timestamp). */
  readonly ingestedAt: number;
  readonly processedAt: number;
  /** How long after its event time it was processed. */
  readonly lagMs: number;
}

/** An event that can never be processed: it goes to the dead-letter topic without retries. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    /** The field at fault, e.g. `type` or `[3].timestamp`. */
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const maxText = 200;

/** What is filled in when an event leaves a field out. */
export interface EventDefaults {
  readonly id: () => string;
  readonly source: string;
  readonly timestamp: number;
}

/**
 * Checks an event's fields and fills in the missing ones; throws ValidationError naming the
 * field, also for what PostgreSQL could not store (see storable.ts).
 */
export function validateEvent(input: unknown, defaults: EventDefaults, at = ''): Event {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError(at || 'event', 'expected a JSON object');
  }
  const raw = input as RawEvent;
  const field = (name: string) => (at ? `${at}.${name}` : name);
  const text = (name: string, value: unknown): string => {
    if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(field(name), 'expected a non-empty string');
    if (value.length > maxText) throw new ValidationError(field(name), `longer than ${maxText} characters`);
    const why = unstorableText(value);
    if (why !== undefined) throw new ValidationError(field(name), why);
    return value;
  };
  const payload = raw.payload ?? null;
  checkStorable(payload, field('payload'));
  return {
    id: raw.id === undefined || raw.id === null ? defaults.id() : text('id', raw.id),
    type: raw.type === undefined ? missing(field('type')) : text('type', raw.type),
    source: raw.source === undefined || raw.source === null ? defaults.source : text('source', raw.source),
    timestamp: raw.timestamp === undefined || raw.timestamp === null ? defaults.timestamp : eventTime(field('timestamp'), raw.timestamp),
    payload,
  };
}

/** Parses the bytes of a Kafka record into an event. */
export function parseEvent(bytes: Buffer, defaults: EventDefaults): Event {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ValidationError('event', `not JSON (${(error as Error).message})`);
  }
  return validateEvent(json, defaults);
}

/** Adds the reading in the payload and the lag. */
export function processEvent(event: Event, ingestedAt: number, now: number): ProcessedEvent {
  const { value, unit } = readingOf(event.payload);
  return { ...event, value, unit, ingestedAt, processedAt: now, lagMs: Math.max(0, now - event.timestamp) };
}

const reading = /^\s*([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*([^\d\s].*?)?\s*$/i;

/** `"30C"` → 30 °C-as-given; `21.5` → 21.5; `{ value: 3, unit: 'kW' }` → 3 kW; anything else → none. */
export function readingOf(payload: unknown): { value: number | null; unit: string | null } {
  if (typeof payload === 'number' && Number.isFinite(payload)) return { value: payload, unit: null };
  if (typeof payload === 'string') {
    const match = reading.exec(payload);
    if (match) return { value: Number(match[1]), unit: match[2] ?? null };
  }
  if (typeof payload === 'object' && payload !== null && 'value' in payload) {
    const { value, unit } = payload as { value: unknown; unit?: unknown };
    if (typeof value === 'number' && Number.isFinite(value)) return { value, unit: typeof unit === 'string' ? unit : null };
    if (typeof value === 'string') return readingOf(value);
  }
  return { value: null, unit: null };
}

function eventTime(field: string, value: unknown): number {
  const time = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  // Years 1970 to 9999: anything else is a unit mix-up (seconds for milliseconds) or garbage.
  if (!Number.isInteger(time) || time < 0 || time > 253_402_300_799_999) {
    throw new ValidationError(field, 'expected milliseconds since the epoch or an ISO-8601 date');
  }
  return time;
}

function missing(field: string): never {
  throw new ValidationError(field, 'is required');
}
