import { describe, expect, it } from 'vitest';
import { StreamrunError } from '../../../lib/errors/streamrun-error.ts';
import type { InputBatch } from '../../../lib/kafka/client.ts';
import { IsolatedRecords } from '../../../lib/runtime/isolated-records.ts';

const batch = (partition: number, offsets: number[]): InputBatch => ({
  topic: 't',
  partition,
  records: offsets.map((o) => ({ key: null, value: null, timestamp: '0', offset: String(o) })),
  lastOffset: String(offsets.at(-1)),
});

describe('IsolatedRecords', () => {
  it('finds its record in a batch at or after `from`, counting the tries of the same offset', () => {
    const isolated = new IsolatedRecords();
    const error = new StreamrunError('PROCESSING', 'boom');
    isolated.failed('t', 0, '12', error);
    expect(isolated.at(batch(0, [10, 11, 12, 13]), 0)).toEqual({ index: 2, attempts: 1, error });
    expect(isolated.at(batch(0, [10, 11, 12, 13]), 3)).toBeUndefined();
    // Another partition, or a batch that ends before it or starts after it.
    expect(isolated.at(batch(1, [10, 11, 12]), 0)).toBeUndefined();
    expect(isolated.at(batch(0, [9, 10, 11]), 0)).toBeUndefined();
    expect(isolated.at(batch(0, [13, 14]), 0)).toBeUndefined();
    isolated.failed('t', 0, '12', error);
    expect(isolated.at(batch(0, [12]), 0)?.attempts).toBe(2);
    // A record at another offset starts counting afresh.
    isolated.failed('t', 0, '14', error);
    expect(isolated.at(batch(0, [14]), 0)?.attempts).toBe(1);
    isolated.clear('t', 0);
    expect(isolated.at(batch(0, [14]), 0)).toBeUndefined();
  });
});
