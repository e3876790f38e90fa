/** Counters a runner keeps; read them with `runner.stats()`. */
export interface RunnerStats {
  /** Records taken from source topics (including the ones that failed). */
  consumed: number;
  /** Records acknowledged by the broker on output topics. */
  produced: number;
  /** Offset commits that succeeded. */
  commits: number;
  /** Records skipped because their bytes did not deserialize. */
  deserializationErrors: number;
  /** Records skipped because a node threw while processing them. */
  processingErrors: number;
  /** Records dropped because every window they belong to had closed (behind end + grace). */
  lateRecords: number;
  /** Changelog records read back into state stores. */
  restoredRecords: number;
}

export function emptyStats(): RunnerStats {
  return { consumed: 0, produced: 0, commits: 0, deserializationErrors: 0, processingErrors: 0, restoredRecords: 0, lateRecords: 0 };
}
