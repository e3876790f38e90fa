import type { StreamrunError } from '../errors/streamrun-error.ts';
import type { InputBatch } from '../kafka/client.ts';

/** A record that threw, and how many times, tried alone until it passes or the policy gives up. */
export interface IsolatedRecord {
  /** Where it is in the batch at hand. */
  readonly index: number;
  /** Tries so far, the first included. */
  readonly attempts: number;
  readonly error: StreamrunError;
}

/**
 * Exactly-once cannot take back what a record did before it threw (outputs, store writes, open
 * windows in memory), so it does not retry in place: the task's work since its last commit is
 * thrown away and the task opened afresh, and the record comes again alone, right after the
 * records before it committed. These are the records waiting for that, one per partition; they
 * outlive the task objects that failed on them.
 */
export class IsolatedRecords {
  readonly #byPartition = new Map<string, { readonly offset: string; readonly attempts: number; readonly error: StreamrunError }>();

  /** The record at `offset` threw (again). */
  failed(topic: string, partition: number, offset: string, error: StreamrunError): void {
    const key = `${topic}:${partition}`;
    const known = this.#byPartition.get(key);
    const attempts = known?.offset === offset ? known.attempts + 1 : 1;
    this.#byPartition.set(key, { offset, attempts, error });
  }

  /** The partition's isolated record, when it is in `batch` at `from` or later. */
  at(batch: InputBatch, from: number): IsolatedRecord | undefined {
    const known = this.#byPartition.get(`${batch.topic}:${batch.partition}`);
    if (known === undefined) return undefined;
    const wanted = BigInt(known.offset);
    const records = batch.records;
    if (records.length === 0 || BigInt(records[records.length - 1]!.offset) < wanted) return undefined;
    for (let index = from; index < records.length; index++) {
      if (records[index]!.offset === known.offset) return { index, attempts: known.attempts, error: known.error };
    }
    return undefined;
  }

  /** It passed, or the policy gave up on it. */
  clear(topic: string, partition: number): void {
    this.#byPartition.delete(`${topic}:${partition}`);
  }
}
