import { StreamrunError } from '../errors/streamrun-error.ts';
import type { GroupMetadata, TopicPartitionOffset, TransactionalProducer } from '../kafka/client.ts';
import { countCommitted, outputsByTopic, type ChunkInputs, type CommitStep, type OffsetCommitter } from './commit.ts';
import { crashPoint } from './crash-points.ts';
import type { Logger } from './logger.ts';
import type { Counters } from './stats.ts';
import type { Task } from './task.ts';

export interface ExactlyOnceOptions {
  /** Opens the runner's transactional producer: again after one was fenced or failed to abort. */
  readonly open: () => Promise<TransactionalProducer>;
  /** The consumer's generation now: the transaction's offsets go with it. */
  readonly group: () => GroupMetadata;
  /** A transaction stays open at least this long, so it holds many batches, not one. */
  readonly intervalMs: number;
  /**
   * After an abort: every task goes back to its last commit (closed, to be opened afresh from
   * its stores) and every partition is read again from its committed offset.
   */
  readonly rollBack: () => Promise<void>;
  /** Whether the task is still the one the runner runs for its id (not closed or replaced). */
  readonly current: (task: Task) => boolean;
  /** The stores could not be written after a commit: the runner stops. */
  readonly fatal: (error: Error) => void;
  readonly stats: Counters;
  readonly logger: Logger;
}

/**
 * Exactly-once as Kafka Streams' EOS v2 does it: one transactional producer per runner, whose
 * transaction holds every task's outputs, changelog records and dead letters since the last
 * commit, and their input offsets sent with the consumer's generation (KIP-447), so a member
 * the group moved on from cannot commit. A transaction commits at the first chunk boundary
 * once `intervalMs` went by (or on a timer when nothing is being sent); the stores' writes go
 * to disk, and their checkpoints forward, only after it committed. Whatever fails rolls every
 * task back to the last commit.
 */
export class ExactlyOnce implements CommitStep {
  readonly commitsWhenStopped = true;
  readonly #options: ExactlyOnceOptions;
  #producer: TransactionalProducer;
  /** The open transaction's begin, once asked for. */
  #open: Promise<void> | undefined;
  #openedAt = 0;
  /** Sends into the open transaction in flight: it commits or aborts only once they ended. */
  #sending = 0;
  #idle: (() => void)[] = [];
  /** Tasks that sent into the open transaction: their stores flush once it commits. */
  readonly #members = new Set<Task>();
  readonly #offsets = new Map<string, TopicPartitionOffset>();
  /** The chunks in the open transaction, their inputs and outputs: counted once it commits. */
  #counted: { readonly inputs: ChunkInputs; readonly produced: [string, number][] }[] = [];
  /** The open transaction committing: sends wait for it, then open the next one. */
  #ending: Promise<void> | undefined;
  /** Set from a failure until every task is back at its last commit: sends are refused meanwhile. */
  #recovering: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Set by close: a producer that cannot be replaced is not tried for ever then. */
  #closing = false;

  private constructor(producer: TransactionalProducer, options: ExactlyOnceOptions) {
    this.#producer = producer;
    this.#options = options;
  }

  static async open(options: ExactlyOnceOptions): Promise<ExactlyOnce> {
    return new ExactlyOnce(await options.open(), options);
  }

  async commit(task: Task, _offsets: OffsetCommitter, inputs: ChunkInputs): Promise<void> {
    await this.#within(async () => {
      const produced = outputsByTopic(task.outputs);
      task.stageChangelog();
      const acks = task.outputs.size > 0 ? await this.#producer.send(task.outputs.lanes) : [];
      this.#counted.push({ inputs, produced });
      task.outputs.clear();
      const positions = task.takePositions();
      task.acknowledge(acks, positions);
      this.#add(positions);
      this.#members.add(task);
      crashPoint('after-send');
    });
    if (Date.now() - this.#openedAt >= this.#options.intervalMs) await this.commitNow();
    else this.#schedule();
  }

  /** Offsets the consumer moved past on its own (transaction markers): they go with the open transaction. */
  async commitPast(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    await this.#within(async () => this.#add(offsets));
    this.#schedule();
  }

  /** Runs `send` inside the open transaction (opening one if none is), never while it commits or rolls back. */
  async #within(send: () => Promise<void>): Promise<void> {
    for (;;) {
      if (this.#recovering !== undefined) throw rolledBack();
      if (this.#ending === undefined) break;
      await this.#ending.catch(() => {});
    }
    this.#sending++;
    try {
      this.#open ??= this.#begin();
      await this.#open;
      await send();
    } catch (error) {
      void this.#fail(error);
      throw rolledBack(error);
    } finally {
      if (--this.#sending === 0) for (const wake of this.#idle.splice(0)) wake();
    }
  }

  #add(offsets: readonly TopicPartitionOffset[]): void {
    for (const offset of offsets) this.#offsets.set(`${offset.topic}:${offset.partition}`, offset);
  }

  discard(task: Task): void {
    task.discardPending();
    // What it sent before stays in the transaction; what it holds in memory does not match it.
    task.dirty = true;
  }

  /**
   * Commits the open transaction now: before the consumer rejoins or leaves its group, while
   * its generation still stands. A failure rolls back as any other.
   */
  async onRevoke(): Promise<void> {
    await this.#recovering;
    try {
      await this.commitNow();
    } catch {
      await this.#recovering;
    }
  }

  /** The runner stops: what fails from now on is not tried for ever. */
  stopping(): void {
    this.#closing = true;
  }

  /** Commits what is open (a clean stop loses no work), then closes the producer. */
  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#timer);
    await this.onRevoke();
    await this.#producer.close();
  }

  async #begin(): Promise<void> {
    await this.#producer.begin();
    this.#openedAt = Date.now();
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const wait = Math.max(0, this.#openedAt + this.#options.intervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.commitNow().catch(() => {});
    }, wait);
  }

  /**
   * Commits the open transaction now. A task opened afresh (after work was discarded) restores
   * its stores up to the changelogs' committed end: what it sent into a transaction still open
   * must be committed by then, or the task would go on without it.
   */
  commitNow(): Promise<void> {
    this.#ending ??= this.#end().finally(() => (this.#ending = undefined));
    return this.#ending;
  }

  async #end(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#noSends();
    const open = this.#open;
    if (open === undefined || this.#recovering !== undefined) return;
    const members = [...this.#members];
    const started = performance.now();
    try {
      await open;
      if (this.#offsets.size > 0) await this.#producer.sendOffsets([...this.#offsets.values()], this.#options.group());
      crashPoint('after-offsets');
      crashPoint('before-commit');
      await this.#producer.commit();
    } catch (error) {
      // Not awaited: rolling back waits for the batches in hand, and one of them may be waiting here.
      void this.#fail(error);
      throw rolledBack(error);
    }
    this.#open = undefined;
    this.#members.clear();
    this.#offsets.clear();
    for (const { inputs, produced } of this.#counted) countCommitted(this.#options.stats, inputs, produced);
    this.#counted = [];
    this.#options.stats.transactions++;
    this.#options.stats.commitDuration.observe(performance.now() - started);
    crashPoint('after-commit');
    try {
      for (const task of members) if (this.#options.current(task)) await task.flushStores();
    } catch (error) {
      this.#options.fatal(error as Error);
      throw error;
    }
  }

  /** Resolves once no send is in flight. */
  async #noSends(): Promise<void> {
    while (this.#sending > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  /** Starts the rollback, once however many sends fail together; it never rejects. */
  #fail(error: unknown): Promise<void> {
    this.#recovering ??= this.#recover(error)
      .catch((failure: unknown) => this.#options.logger.error(`rolling back failed: ${(failure as Error).message}`))
      .finally(() => (this.#recovering = undefined));
    return this.#recovering;
  }

  async #recover(cause: unknown): Promise<void> {
    const { logger, stats } = this.#options;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const message = cause instanceof Error ? cause.message : String(cause);
    logger.warn(`transaction aborted: ${message}; every task goes back to its last commit`);
    stats.aborts++;
    await this.#noSends();
    const open = this.#open;
    this.#open = undefined;
    this.#members.clear();
    this.#offsets.clear();
    this.#counted = [];
    let fresh = fenced(cause);
    if (open !== undefined && !fresh) {
      try {
        await open;
        await this.#producer.abort();
      } catch (error) {
        logger.warn(`abort failed: ${(error as Error).message}; a new producer takes over`);
        fresh = true;
      }
    }
    if (fresh) await this.#replaceProducer();
    await this.#options.rollBack();
  }

  /**
   * A new producer with the same transactional id: initializing it aborts whatever the old one
   * left open and fences it. Tried until it works: without a producer nothing can commit.
   */
  async #replaceProducer(): Promise<void> {
    await this.#producer.close().catch(() => {});
    for (let attempt = 0; !this.#closing; attempt++) {
      try {
        this.#producer = await this.#options.open();
        return;
      } catch (error) {
        this.#options.logger.warn(`could not open a new transactional producer: ${(error as Error).message}; trying again`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** attempt, 10_000)));
      }
    }
  }
}

/** Thrown to the batch whose send or commit could not go into the transaction: it stops, uncommitted. */
function rolledBack(cause?: unknown): StreamrunError {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new StreamrunError('TRANSACTION_ABORTED', `the transaction was aborted${reason}`, cause === undefined ? {} : { cause });
}

export function isRolledBack(error: unknown): boolean {
  return error instanceof StreamrunError && error.code === 'TRANSACTION_ABORTED';
}

/** The producer's epoch is gone (another with its id started, or the broker timed its transaction out). */
function fenced(error: unknown): boolean {
  const code = (error as { errorCode?: unknown } | undefined)?.errorCode;
  const name = (error as { name?: unknown } | undefined)?.name;
  // PRODUCER_FENCED, INVALID_PRODUCER_EPOCH, TRANSACTIONAL_ID_AUTHORIZATION… and kafkats's own names for them.
  return code === 90 || code === 47 || name === 'ProducerFencedError' || name === 'InvalidProducerEpochError';
}
