/** Counters a runner keeps; read them with `runner.stats()`. */
export interface RunnerStats {
  /** Records taken from source topics (including the ones that failed). */
  consumed: number;
  /** Records acknowledged by the broker on output and dead-letter topics (not changelogs). */
  produced: number;
  /** Offset commits that succeeded. */
  commits: number;
  /** Records whose bytes did not deserialize (dead-lettered or skipped). */
  deserializationErrors: number;
  /** Records a node kept throwing on after every retry (dead-lettered or skipped). */
  processingErrors: number;
  /** Tries after the first, over all records. */
  retries: number;
  /** Times a partition paused while its work waited on retries or an open circuit. */
  pauses: number;
  /** Records written to the dead-letter topic. */
  deadLettered: number;
  /** Records dropped because every window they belong to had closed (behind end + grace). */
  lateRecords: number;
  /** Changelog records read back into state stores. */
  restoredRecords: number;
  /** Transactions committed (exactly-once). */
  transactions: number;
  /** Transactions aborted, each rolling every task back to its last commit (exactly-once). */
  aborts: number;
}

export function emptyStats(): RunnerStats {
  return { consumed: 0, produced: 0, commits: 0, deserializationErrors: 0, processingErrors: 0, retries: 0, pauses: 0, deadLettered: 0, restoredRecords: 0, lateRecords: 0, transactions: 0, aborts: 0 };
}
