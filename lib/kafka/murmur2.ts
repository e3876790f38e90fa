import { createRequire } from 'node:module';

/**
 * KafkaJS's own murmur2, the hash Kafka's Java client partitions keys by. Required by file, not
 * through `kafkajs`: loading KafkaJS's entry point here, before kafkajs-grouping.ts, would cost its
 * producer the linear grouping, and a client that is not KafkaJS must not load KafkaJS at all.
 */
const murmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;

/** The partition KafkaJS's (and Kafka's Java client's) default partitioner picks for a key. */
export function partitionOfKey(key: Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
