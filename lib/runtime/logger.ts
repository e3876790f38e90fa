/** Where streamrun reports what it does. Pass your own (pino, console…) through the options. */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

export type LogFields = Readonly<Record<string, unknown>>;

export const logLevels = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof logLevels)[number];

/** One line per event on stderr: time, level, message, then the fields as JSON. */
export function consoleLogger(level: LogLevel = 'info', write: (line: string) => void = stderrLine): Logger {
  const threshold = logLevels.indexOf(level);
  const emit = (at: LogLevel) => (message: string, fields?: LogFields) => {
    if (logLevels.indexOf(at) > threshold) return;
    const tail = fields === undefined ? '' : ` ${JSON.stringify(fields, errorReplacer)}`;
    write(`${new Date().toISOString()} ${at.toUpperCase().padEnd(5)} ${message}${tail}`);
  };
  return { error: emit('error'), warn: emit('warn'), info: emit('info'), debug: emit('debug') };
}

function stderrLine(line: string): void {
  process.stderr.write(`${line}\n`);
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? `${value.name}: ${value.message}` : value;
}
