import { pino, stdSerializers, type DestinationStream } from 'pino';
import type { LogFields, Logger, LogLevel } from './logger.ts';

/** How the CLI writes its log lines: `text` for people, `json` for a log pipeline. */
export const logFormats = ['text', 'json'] as const;
export type LogFormat = (typeof logFormats)[number];

/**
 * One JSON object per line (pino's): `level` as its name, `time` in ISO 8601, `msg`, then the
 * fields; an Error in the fields becomes `{ type, message, stack }`. Written synchronously to
 * stderr by default, so the lines of a process that exits right after are not lost.
 */
export function jsonLogger(level: LogLevel = 'info', destination: DestinationStream = pino.destination({ dest: 2, sync: true })): Logger {
  const log = pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const emit = (at: LogLevel) => (message: string, fields?: LogFields) => {
    if (fields === undefined) log[at](message);
    else log[at](serialized(fields), message);
  };
  return { error: emit('error'), warn: emit('warn'), info: emit('info'), debug: emit('debug') };
}

function serialized(fields: LogFields): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([name, value]) => [name, value instanceof Error ? stdSerializers.err(value) : value]));
}
