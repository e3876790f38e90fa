import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { linearGrouping } from '../../../lib/kafka/kafkajs-grouping.ts';
import '../../../lib/kafka/kafkajs-client.ts';

const require = createRequire(import.meta.url);

describe('KafkaJS per-partition grouping', () => {
  it('is the linear one once streamrun loaded KafkaJS', () => {
    expect(linearGrouping()).toBe(true);
  });

  it('groups like KafkaJS does: by the partitioner, in order, nothing for a topic without partitions', () => {
    const group = require('kafkajs/src/producer/groupMessagesPerPartition.js') as (args: object) => Record<number, string[]>;
    const partitioner = ({ message }: { message: string }) => Number(message.slice(0, 1));
    const messages = ['0a', '1a', '0b', '2a', '1b', '0c'];
    expect(group({ topic: 't', partitionMetadata: [{}, {}, {}], messages, partitioner })).toEqual({
      0: ['0a', '0b', '0c'],
      1: ['1a', '1b'],
      2: ['2a'],
    });
    expect(group({ topic: 't', partitionMetadata: [], messages, partitioner })).toEqual({});
  });
});
