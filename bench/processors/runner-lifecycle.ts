import type { Logger, Runner, RunnerOptions } from 'streamrun';
import { readyLine, type ProcessorEnv } from '../lib/events.ts';

/** Says `ready` once the runner owns tasks, then runs until SIGTERM or SIGINT and stops it. */
export async function runUntilSignal(runner: Runner): Promise<void> {
  while (runner.tasks().length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  process.stdout.write(`${readyLine}\n`);
  // Scraped as a Prometheus at a 1 s interval would (15 times its default rate): what serving metrics costs.
  const scrapes = scraped ? setInterval(() => void fetch(`${runner.httpUrl}/metrics`).then((r) => r.text()), 1000) : undefined;
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  clearInterval(scrapes);
  await runner.stop();
  process.exit(0);
}

/** BENCH_METRICS=scraped: the runner serves /metrics and the processor scrapes it every second. */
const scraped = process.env['BENCH_METRICS'] === 'scraped';

/** Warnings and errors on stderr; the bench reads stdout. */
export const quietLogger: Logger = {
  error: (message, fields) => process.stderr.write(`${message} ${JSON.stringify(fields ?? {})}\n`),
  warn: (message, fields) => process.stderr.write(`${message} ${JSON.stringify(fields ?? {})}\n`),
  info: () => {},
  debug: () => {},
};

/**
 * The runner on the bench's broker and state dir; the runner takes its Kafka client from the
 * STREAMRUN_CLIENT the scenario sets, its guarantee from BENCH_PROCESSING (at-least-once unless set),
 * an HTTP server for /metrics when BENCH_METRICS says so.
 */
export function benchRunnerOptions(env: ProcessorEnv): RunnerOptions {
  return {
    brokers: env.BENCH_BROKERS,
    stateDir: env.BENCH_STATE_DIR,
    logger: quietLogger,
    ...(process.env['BENCH_PROCESSING'] === 'exactly-once' ? { processing: 'exactly-once' as const } : {}),
    ...(scraped ? { port: 0 } : {}),
  };
}
