import { describe, expect, it } from 'vitest';
import { bucketsSince, quantile } from '../../../lib/metrics/quantile.ts';

// 2 observations up to 10 ms, 2 more up to 20, 6 more up to 50, none above.
const known = [
  { le: 10, count: 2 },
  { le: 20, count: 4 },
  { le: 50, count: 10 },
  { le: Infinity, count: 10 },
];

describe('quantile (as histogram_quantile estimates it)', () => {
  it('interpolates linearly within the bucket the rank falls in, the first bucket starting at 0', () => {
    // rank 1 of 2 in (0, 10]: halfway.
    expect(quantile(0.1, known)).toBe(5);
    // rank 2: the top of the first bucket.
    expect(quantile(0.2, known)).toBe(10);
    // rank 5: 1 of the 6 in (20, 50], so 20 + 30 / 6.
    expect(quantile(0.5, known)).toBe(25);
    // rank 9.9: 5.9 of 6 in (20, 50].
    expect(quantile(0.99, known)).toBeCloseTo(49.5, 12);
    expect(quantile(1, known)).toBe(50);
  });

  it('starts a bucket at the bound below it even when the buckets below are empty', () => {
    const late = [
      { le: 10, count: 0 },
      { le: 20, count: 0 },
      { le: 50, count: 4 },
      { le: Infinity, count: 4 },
    ];
    // rank 2 of 4 in (20, 50].
    expect(quantile(0.5, late)).toBe(35);
  });

  it('answers the highest finite bound for a rank in the +Inf bucket, and null when nothing was observed', () => {
    const slow = [
      { le: 10, count: 1 },
      { le: 20, count: 2 },
      { le: Infinity, count: 4 },
    ];
    expect(quantile(0.95, slow)).toBe(20);
    // rank 2 is the top of (10, 20].
    expect(quantile(0.5, slow)).toBe(20);
    expect(quantile(0.5, [{ le: 10, count: 0 }, { le: Infinity, count: 0 }])).toBeNull();
    expect(quantile(0.5, [{ le: Infinity, count: 3 }])).toBeNull();
    expect(quantile(0.5, [])).toBeNull();
  });

  it('subtracts an earlier reading bucket by bucket', () => {
    const earlier = [{ le: 10, count: 1 }, { le: 20, count: 3 }, { le: Infinity, count: 4 }];
    const later = [{ le: 10, count: 3 }, { le: 20, count: 6 }, { le: Infinity, count: 9 }];
    expect(bucketsSince(earlier, later)).toEqual([{ le: 10, count: 2 }, { le: 20, count: 3 }, { le: Infinity, count: 5 }]);
  });
});
