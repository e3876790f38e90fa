import { CompressionType, createRecordBatch, decodeRecordBatch, encodeRecordBatch, encodeRecordBatchSync } from '@kafkats/client';
import { describe, expect, it } from 'vitest';
import { decodePartition } from '../../../lib/kafka/kafkats-records.ts';

// @kafkats/client's own encoder writes the batches and its own decoder is the reference.
const messages = Array.from({ length: 40 }, (_, i) => ({
  key: i % 9 === 0 ? null : `key-${i}`,
  value: i % 11 === 0 ? null : `value ${i} ${'é'.repeat(i % 5)}`,
  ...(i % 3 === 0 ? { headers: { trace: `t${i}`, empty: Buffer.alloc(0) } } : {}),
  timestamp: 1_700_000_000_000 + i * 997,
}));

describe('reading fetched record batches', () => {
  it('reads plain and gzip batches as @kafkats/client’s own decoder does', async () => {
    const plain = encodeRecordBatchSync(createRecordBatch(messages.slice(0, 20), 100n, 1_700_000_000_000n));
    const zipped = await encodeRecordBatch(createRecordBatch(messages.slice(20), 120n, 1_700_000_000_000n), { compression: CompressionType.Gzip });
    const { records, lastOffset } = await decodePartition(Buffer.concat([plain, zipped]), 100n, [], true);
    const reference = [...(await decodeRecordBatch(plain)).records, ...(await decodeRecordBatch(zipped)).records];
    expect(lastOffset).toBe(139n);
    expect(records.map((r) => ({ key: r.key, value: r.value, offset: r.offset, timestamp: r.timestamp, headers: r.headers ?? {} }))).toEqual(
      reference.map((r) => ({
        key: r.key,
        value: r.value,
        offset: String(r.offset),
        timestamp: String(r.timestamp),
        headers: Object.fromEntries(r.headers.map((h) => [h.key, h.value])),
      })),
    );
  });

  it('starts at the offset asked for inside a batch, and stops before a batch cut short', async () => {
    const batch = encodeRecordBatchSync(createRecordBatch(messages.slice(0, 10), 50n));
    const cut = encodeRecordBatchSync(createRecordBatch(messages.slice(10, 20), 60n)).subarray(0, 30);
    const { records, lastOffset } = await decodePartition(Buffer.concat([batch, cut]), 55n, [], true);
    expect(records.map((r) => r.offset)).toEqual(['55', '56', '57', '58', '59']);
    expect(lastOffset).toBe(59n);
  });

  it('refuses a batch whose checksum does not match', async () => {
    const batch = encodeRecordBatchSync(createRecordBatch(messages.slice(0, 5), 0n));
    batch.writeUInt8(batch.readUInt8(batch.length - 3) ^ 0xff, batch.length - 3);
    await expect(decodePartition(batch, 0n, [], true)).rejects.toThrow(/CRC mismatch/);
  });
});
