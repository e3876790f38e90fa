import type { InputBatch } from '../kafka/client.ts';

/**
 * Which of a task's input partitions still have records it has not read, as far as it knows:
 * one whose batch is in hand, or whose last batch ended short of the partition's end (or that
 * had records the group had not read when the task opened) and has not been silent for
 * `idleMs` since. Such an input holds the stream time of the nodes it reaches back (see
 * EventClock), so one input's backlog read first cannot make another's records late. Kafka
 * Streams gets the same by taking records in timestamp order and waiting for partitions known
 * to lag; the silence rule is its max.task.idle.ms, so a partition that never delivers what it
 * seemed to hold (records deleted by retention, aborted transactions) cannot stop time for good.
 */
export class InputProgress {
  readonly #reading = new Set<string>();
  /** By topic: since when it has been known to have more to read. */
  readonly #waiting = new Map<string, number>();
  readonly #idleMs: number;
  readonly #now: () => number;

  /** @param behind the topics whose partition had records the group had not read when the task opened */
  constructor(behind: Iterable<string>, options: { idleMs: number; now: () => number }) {
    this.#idleMs = options.idleMs;
    this.#now = options.now;
    const now = options.now();
    for (const topic of behind) this.#waiting.set(topic, now);
  }

  behind(topic: string): boolean {
    if (this.#reading.has(topic)) return true;
    const since = this.#waiting.get(topic);
    return since !== undefined && this.#now() - since <= this.#idleMs;
  }

  /** A batch of `topic` is in hand: until it is done, its records are still to come. */
  begin(topic: string): void {
    this.#reading.add(topic);
  }

  /** The batch is done; returns true when that read its partition to the end it was fetched with. */
  end(batch: InputBatch): boolean {
    const { topic, highWatermark, lastOffset } = batch;
    this.#reading.delete(topic);
    if (highWatermark !== undefined && BigInt(lastOffset) + 1n < BigInt(highWatermark)) {
      this.#waiting.set(topic, this.#now());
      return false;
    }
    this.#waiting.delete(topic);
    return true;
  }
}
