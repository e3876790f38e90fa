/** A histogram bucket as Prometheus exports it: observations at or below `le`, counted cumulatively. */
export interface Bucket {
  /** Upper bound; `Infinity` for the +Inf bucket, which must come last. */
  readonly le: number;
  readonly count: number;
}

/**
 * The `q`-quantile (0 < q ≤ 1) of a histogram's cumulative buckets, as Prometheus'
 * `histogram_quantile` estimates it: find the bucket the rank falls in and interpolate linearly
 * within it, the first bucket starting at 0. A rank in the +Inf bucket answers the highest finite
 * bound, since nothing is known above it. Null when the histogram holds no observation.
 *
 * @example
 * quantile(0.5, [{ le: 10, count: 2 }, { le: 20, count: 4 }, { le: Infinity, count: 4 }]); // 10
 */
export function quantile(q: number, buckets: readonly Bucket[]): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  const index = buckets.findIndex((bucket) => bucket.count >= rank);
  const bucket = buckets[index]!;
  if (bucket.le === Infinity) return index === 0 ? null : buckets[index - 1]!.le;
  const below = index === 0 ? { le: 0, count: 0 } : buckets[index - 1]!;
  return below.le + ((bucket.le - below.le) * (rank - below.count)) / (bucket.count - below.count);
}

/** What was observed between two readings of one histogram: the later minus the earlier, bucket by bucket. */
export function bucketsSince(earlier: readonly Bucket[], later: readonly Bucket[]): Bucket[] {
  return later.map((bucket, i) => ({ le: bucket.le, count: bucket.count - (earlier[i]?.count ?? 0) }));
}
