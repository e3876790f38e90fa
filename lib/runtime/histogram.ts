/**
 * Counts of observations per bucket, kept as plain numbers so an observation costs a few
 * comparisons on the hot path; the metrics module turns them into a Prometheus histogram.
 */
export class Histogram {
  /** Upper bounds, ascending; one more bucket past the last holds the rest (+Inf). */
  readonly bounds: readonly number[];
  /** Per bucket, not cumulative. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    this.counts[bucket]!++;
    this.sum += value;
    this.count++;
  }
}

/** Milliseconds from a record's timestamp to its output: up to a minute behind. */
export const latencyBoundsMs = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000];
/** Milliseconds a batch or a commit takes. */
export const durationBoundsMs = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];
