/**
 * Plain log lines as events: what Kafka Connect's FileStreamSource (or any producer of text)
 * writes to `events.raw`. A regular expression with named groups reads each line: `type`
 * (required), `timestamp` and `source` (optional); every other named group that matched goes into
 * the payload beside the whole `line`.
 */
import { validateEvent, ValidationError, type Event, type EventDefaults } from './event.ts';
import { time } from './params.ts';

export const linePatternVariable = 'EVENTS_LINE_PATTERN';

/**
 * `<ISO-8601 time or epoch ms> <LEVEL> <message>`, the shape of most application logs:
 * `2026-12-01T10:00:00.123Z ERROR disk full on /var`, `2026-12-01 10:00:00,123 [WARN] slow`.
 * The level is the type; the message stays in the payload.
 */
export const defaultLinePattern = String.raw`^(?<timestamp>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?|\d{13})\s+\[?(?<type>[A-Z]+)\]?:?(?:\s+(?<message>.*))?$`;

/** Where a line came from when its pattern has no `source` group: a log, whoever put it into Kafka. */
export const lineSource = 'log';

/** Groups that become fields of the event, not of the payload. */
const eventFields = new Set(['type', 'timestamp', 'source']);

/**
 * The pattern `text` (the default when unset or empty), checked before anything runs: it must
 * compile and have a `type` group. Throws an Error whose message is one line naming `variable`.
 */
export function compileLinePattern(text: string | undefined, variable = linePatternVariable): RegExp {
  const source = text === undefined || text === '' ? defaultLinePattern : text;
  let pattern: RegExp;
  try {
    pattern = new RegExp(source);
  } catch (error) {
    throw new Error(`${variable}: not a regular expression (${(error as Error).message.split('\n')[0]})`);
  }
  const groups = groupNames(pattern);
  if (!groups.includes('type')) throw new Error(`${variable}: needs a named group (?<type>...) for the event type, in ${source}`);
  // The payload's `line` is the whole line: a group of that name would hide it.
  if (groups.includes('line')) throw new Error(`${variable}: a group may not be named "line" (the payload's line is the whole line), in ${source}`);
  return pattern;
}

/**
 * A log line as an event. Throws ValidationError when the line does not match `pattern` or what
 * it matched is no valid event (an empty type, a timestamp that names no instant).
 */
export function eventFromLine(text: string, pattern: RegExp, defaults: EventDefaults): Event {
  // A producer writing lines (not FileStreamSource, which strips them) may leave the line ending.
  const line = text.replace(/\r?\n$/, '');
  const groups = pattern.exec(line)?.groups;
  if (groups === undefined) throw new ValidationError('line', `did not match the pattern ${linePatternVariable} (${pattern.source})`);
  const payload: Record<string, string> = {};
  for (const [name, value] of Object.entries(groups)) {
    if (value !== undefined && !eventFields.has(name)) payload[name] = value;
  }
  payload['line'] = line;
  const { type, timestamp, source } = groups;
  return validateEvent(
    {
      type: type ?? '',
      source: source ?? lineSource,
      timestamp: timestamp === undefined ? defaults.timestamp : lineTime(timestamp),
      payload,
    },
    defaults,
  );
}

/**
 * Epoch ms, or ISO-8601 as logs write it: a space for the `T`, a comma before the fraction,
 * `+hhmm`, or no zone, which is read as UTC (not the reader's local time, which would move
 * events by the machine's zone).
 */
function lineTime(text: string): number {
  const iso = text
    .replace(/^(\d{4}-\d{2}-\d{2}) /, '$1T')
    .replace(/(T\d{2}:\d{2}:\d{2}),/, '$1.')
    .replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const zoned = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/.test(iso) ? `${iso}Z` : iso;
  try {
    return time('timestamp', zoned).getTime();
  } catch {
    throw new ValidationError('timestamp', `"${text}" is no ISO-8601 time or ms since the epoch`);
  }
}

/**
 * The names of a pattern's named groups. A RegExp lists them only on a match: with an empty
 * alternative beside it, the pattern matches '' and lists all of them, each undefined.
 */
function groupNames(pattern: RegExp): string[] {
  return Object.keys(new RegExp(`(?:${pattern.source})|`).exec('')?.groups ?? {});
}
