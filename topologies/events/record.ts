/**
 * A record of `events.raw`: a JSON event (from the API, MQTT or any JSON producer) or a plain log
 * line (from Kafka Connect's FileStreamSource, say).
 */
import { parseEvent, validateEvent, type Event, type EventDefaults } from './event.ts';
import { eventFromLine } from './line.ts';

/**
 * A JSON object or array is read as an event, exactly as `parseEvent` reads it. Text starting
 * with `{` is taken for JSON too, so a broken event is reported as broken JSON, not as a line
 * that did not match. Anything else (`[` may open a log line: `[2026-12-01 10:00:00] WARN …`)
 * is a line read by `linePattern`.
 */
export function parseRecord(bytes: Buffer, defaults: EventDefaults, linePattern: RegExp): Event {
  const text = bytes.toString('utf8');
  if (text.trimStart().startsWith('{')) return parseEvent(bytes, defaults);
  const json = jsonOf(text);
  if (typeof json === 'object' && json !== null) return validateEvent(json, defaults);
  return eventFromLine(text, linePattern, defaults);
}

function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
