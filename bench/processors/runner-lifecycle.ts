import type { Logger, Runner } from 'streamrun';
import { readyLine } from '../lib/events.ts';

/** Says `ready` once the runner owns tasks, then runs until SIGTERM or SIGINT and stops it. */
export async function runUntilSignal(runner: Runner): Promise<void> {
  while (runner.tasks().length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  process.stdout.write(`${readyLine}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await runner.stop();
  process.exit(0);
}

/** Warnings and errors on stderr; the bench reads stdout. */
export const quietLogger: Logger = {
  error: (message, fields) => process.stderr.write(`${message} ${JSON.stringify(fields ?? {})}\n`),
  warn: (message, fields) => process.stderr.write(`${message} ${JSON.stringify(fields ?? {})}\n`),
  info: () => {},
  debug: () => {},
};
