import { inspect } from 'node:util';
import { processorEnv, readyLine, type ProcessorEnv } from '../lib/events.ts';

/**
 * Plumbing every ceiling processor shares, so the six scripts differ only in how they drive
 * their client.
 */

export interface BenchSettings {
  readonly env: ProcessorEnv;
  readonly brokers: string[];
  readonly events: number;
}

export function benchSettings(): BenchSettings {
  const env = processorEnv();
  const events = Number(env.BENCH_EVENTS);
  // Consumers and pipes get BENCH_EVENTS too; only producers use it, but a bad value is a
  // harness bug worth failing on wherever it shows up.
  if (!Number.isSafeInteger(events) || events < 0) throw new Error(`bench processor: BENCH_EVENTS is ${env.BENCH_EVENTS}`);
  const brokers = env.BENCH_BROKERS.split(',').map((b) => b.trim()).filter((b) => b.length > 0);
  return { env, brokers, events };
}

/** The harness starts its clock on this line, so it must come once and alone on stdout. */
export function signalReady(): void {
  process.stdout.write(`${readyLine}\n`);
}

// A stop that hangs (a broker gone away mid-commit) must not leave an orphan the harness
// has to kill: it fails loudly instead.
const stopTimeoutMs = 30_000;

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits 0; exits 1 if it throws or
 * takes longer than 30 s. Further signals while stopping are ignored.
 */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => fail(new Error(`no clean stop within ${stopTimeoutMs} ms of ${signal}`)), stopTimeoutMs);
    stop().then(
      () => {
        clearTimeout(timer);
        process.exit(0);
      },
      (error: unknown) => fail(error),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Runs a processor's main; any error it throws ends the process with code 1. */
export function runProcessor(main: () => Promise<void>): void {
  main().catch(fail);
}

export function fail(error: unknown): never {
  // inspect shows an AggregateError's errors and each cause: the client's own message is often
  // just "Producing messages failed."
  process.stderr.write(`bench processor failed: ${inspect(error, { depth: 6 })}\n`);
  process.exit(1);
}

/**
 * Hands out batch numbers to `concurrency` workers until `total` items are covered, so that
 * many sends are in flight while each one stays a single big request.
 */
export async function inParallelBatches(
  total: number,
  batchSize: number,
  concurrency: number,
  send: (from: number, to: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const from = next;
      next = Math.min(total, from + batchSize);
      await send(from, next);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.ceil(total / batchSize)) }, worker));
}

/**
 * Turns a client that hands over records one at a time into batches: each `next()` takes
 * what arrived while the previous batch was being handled, up to `maxBatch`. Past `pauseAt`
 * waiting records it pauses the source, so a slow sink bounds memory instead of growing it.
 */
export class BatchQueue<T> {
  #items: T[] = [];
  #wake: (() => void) | undefined;
  #paused = false;
  #closed = false;
  readonly #maxBatch: number;
  readonly #pauseAt: number;
  readonly #pause: () => void;
  readonly #resume: () => void;

  constructor(options: { maxBatch: number; pauseAt: number; pause: () => void; resume: () => void }) {
    this.#maxBatch = options.maxBatch;
    this.#pauseAt = options.pauseAt;
    this.#pause = options.pause;
    this.#resume = options.resume;
  }

  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    if (!this.#paused && this.#items.length >= this.#pauseAt) {
      this.#paused = true;
      this.#pause();
    }
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /**
   * The next batch, or null once closed. A waiter woken by the first record of a fetch
   * resumes only after the client has pushed the rest of it, so batches are whole fetches.
   */
  async next(): Promise<T[] | null> {
    while (!this.#closed && this.#items.length === 0) await new Promise<void>((resolve) => (this.#wake = resolve));
    if (this.#closed) return null;
    const batch = this.#items.length <= this.#maxBatch ? this.#items : this.#items.slice(0, this.#maxBatch);
    this.#items = batch === this.#items ? [] : this.#items.slice(this.#maxBatch);
    if (this.#paused && this.#items.length < this.#pauseAt) {
      this.#paused = false;
      this.#resume();
    }
    return batch;
  }

  /** Ends the batches: records still waiting are dropped, uncommitted, for the next owner. */
  close(): void {
    this.#closed = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** Commits, per partition, the offset after the last record handled (@platformatic/kafka). */
export async function commitEnds(
  consumer: { commit(options: { offsets: { topic: string; partition: number; offset: bigint; leaderEpoch: number }[] }): Promise<unknown> },
  topic: string,
  ends: ReadonlyMap<number, bigint>,
): Promise<void> {
  await consumer.commit({
    offsets: [...ends].map(([partition, last]) => ({
      topic,
      partition,
      // A committed offset names the next record to read, hence last + 1.
      offset: last + 1n,
      // Unknown: the broker then skips its fencing check, as for any pre-KIP-320 client.
      leaderEpoch: -1,
    })),
  });
}
