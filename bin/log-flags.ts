import { Option, type Command } from 'commander';
import { jsonLogger, logFormats, type LogFormat } from '../lib/runtime/json-logger.ts';
import { consoleLogger, logLevels, type Logger, type LogLevel } from '../lib/runtime/logger.ts';

export interface LogFlags {
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** `--log-level` and `--log-format`, each also read from the environment (a container's usual way). */
export function withLogFlags(command: Command, defaultLevel: LogLevel): Command {
  return command
    .addOption(new Option('--log-level <level>', 'what to log on stderr').choices(logLevels).default(defaultLevel).env('STREAMRUN_LOG_LEVEL'))
    .addOption(
      new Option('--log-format <format>', 'text: one line per event for people; json: one JSON object per line (pino) for a log pipeline')
        .choices(logFormats)
        .default('text')
        .env('STREAMRUN_LOG_FORMAT'),
    );
}

export function loggerFor(flags: LogFlags): Logger {
  return flags.logFormat === 'json' ? jsonLogger(flags.logLevel) : consoleLogger(flags.logLevel);
}
