import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { partitionOfKey } from '../../../lib/kafka/murmur2.ts';

describe('partitionOfKey()', () => {
  it("picks the partition KafkaJS's default partitioner picks, for any key bytes and partition count", () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    const keys = [Buffer.alloc(0), Buffer.from('a'), Buffer.from('ключ'), ...Array.from({ length: 2000 }, (_, i) => randomBytes(i % 40))];
    for (const partitions of [1, 2, 3, 6, 7, 12, 100]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));
      const theirs = keys.map((key) => kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } }));
      expect(keys.map((key) => partitionOfKey(key, partitions))).toEqual(theirs);
    }
  });

  it('gives the Java client’s partitions for the hashes in Kafka’s own murmur2 test (UtilsTest.testMurmur2)', () => {
    const hashes: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const partitions of [1, 6, 7, 1000]) {
      // The Java client's toPositive(murmur2(key)) % partitions.
      expect(hashes.map(([key]) => partitionOfKey(Buffer.from(key), partitions))).toEqual(hashes.map(([, hash]) => (hash & 0x7fffffff) % partitions));
    }
  });
});
